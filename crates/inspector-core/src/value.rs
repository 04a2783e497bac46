//! Python facts about JSON values, under the names the service uses; they live
//! in [`crate::py::value`].

pub use crate::py::value::type_name as python_type_name;
