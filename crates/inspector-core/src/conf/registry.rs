//! The option registry and the machinery that declares options: every
//! option an upstream `inspector.conf` may contain (inspector's own and those
//! of the libraries upstream loads: oslo.log, oslo.messaging, oslo.service,
//! oslo.db, oslo.policy, oslo.middleware, keystonemiddleware, keystoneauth)
//! is declared once, in `model.rs`, with [`options!`]; the registry, the
//! typed structs, their defaults and their loading all come from that one
//! declaration.

use std::sync::LazyLock;

use super::load::{FromOpt, Reader};
use super::model::{ACCEPTED_SECTIONS, Config};
use crate::oslo::resolve::{Alias, Default, OptDef};
use crate::oslo::types::{Bounds, Choice, ItemType, OptType, StrType};

/// What inspector does with an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Read by inspector.
    Implemented,
    /// Meaningless in a single-binary service; accepted silently.
    Ignored,
    /// Would change behaviour, but inspector does not support it: a value
    /// other than the default is reported as a warning.
    Unsupported,
}

/// A registered option and what the sample file says about it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub opt: OptDef,
    pub status: Status,
    pub help: &'static str,
    /// Shown in the sample instead of the real default.
    pub sample_default: Option<&'static str>,
    /// Masked when values are shown.
    pub secret: bool,
}

/// A section of the file.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub name: &'static str,
    pub help: &'static str,
    /// Options of this section are accepted without being known one by one.
    pub accept_any: bool,
}

/// All groups (in sample order) and options.
pub(crate) struct Registry {
    pub groups: Vec<Group>,
    pub entries: Vec<Entry>,
    /// `entries[i].opt`, for the resolver.
    pub opts: Vec<OptDef>,
}

impl Registry {
    /// The entry of option `name` of `group`.
    pub fn index_of(&self, group: &str, name: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.opt.group == group && e.opt.name == name)
    }

    /// Whether `key` written in (normalised) section `section` names a
    /// registered option, directly or through a deprecated alias.
    pub fn knows(&self, section: &str, key: &str) -> bool {
        self.entries.iter().any(|e| {
            (e.opt.group == section && e.opt.name == key)
                || e.opt.aliases.iter().any(|a| {
                    a.group.unwrap_or(e.opt.group) == section && a.name.unwrap_or(e.opt.name) == key
                })
        })
    }

    /// Whether a (normalised) section name is a group, an old name of one,
    /// or a library section accepted as a whole.
    pub fn knows_section(&self, section: &str) -> bool {
        self.groups.iter().any(|g| g.name == section)
            || self
                .entries
                .iter()
                .any(|e| e.opt.aliases.iter().any(|a| a.group == Some(section)))
    }

    /// Whether any key is accepted in this (normalised) section.
    pub fn accepts_any(&self, section: &str) -> bool {
        self.groups
            .iter()
            .any(|g| g.name == section && g.accept_any)
    }
}

pub(crate) static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let mut groups = Vec::new();
    let mut entries = Vec::new();
    Config::register(&mut groups, &mut entries);
    groups.extend(ACCEPTED_SECTIONS.iter().map(|&(name, help)| Group {
        name,
        help,
        accept_any: true,
    }));
    let opts = entries.iter().map(|e: &Entry| e.opt.clone()).collect();
    Registry {
        groups,
        entries,
        opts,
    }
});

/// An option: its type, its default as written in a file (`None`: unset)
/// and its help text. The declaring set gives it its group and name.
pub(crate) fn opt(
    ty: OptType,
    default: impl Into<Option<&'static str>>,
    help: &'static str,
) -> Entry {
    Entry {
        opt: OptDef {
            group: "",
            name: "",
            ty,
            default: default.into().map(Default::Text),
            aliases: Vec::new(),
        },
        status: Status::Implemented,
        help,
        sample_default: None,
        secret: false,
    }
}

impl Entry {
    pub(crate) fn named(mut self, group: &'static str, name: &'static str) -> Self {
        self.opt.group = group;
        self.opt.name = name;
        self
    }

    pub(crate) fn ignored(mut self) -> Self {
        self.status = Status::Ignored;
        self
    }

    pub(crate) fn unsupported(mut self) -> Self {
        self.status = Status::Unsupported;
        self
    }

    pub(crate) fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// What the sample shows instead of the default.
    pub(crate) fn sample(mut self, shown: &'static str) -> Self {
        self.sample_default = Some(shown);
        self
    }

    /// A deprecated name (in the same group).
    pub(crate) fn old_name(mut self, name: &'static str) -> Self {
        self.opt.aliases.push(Alias {
            group: None,
            name: Some(name),
        });
        self
    }

    /// A deprecated group (same name).
    pub(crate) fn old_group(mut self, group: &'static str) -> Self {
        self.opt.aliases.push(Alias {
            group: Some(group),
            name: None,
        });
        self
    }

    /// The default values of a multi-valued option.
    pub(crate) fn defaults(mut self, values: &'static [&'static str]) -> Self {
        self.opt.default = Some(Default::Many(values));
        self
    }
}

/// How a set of options is instantiated: in which group (for a group of
/// [`Config`]), and what differs there from the set's own declaration.
pub(crate) struct Instance {
    pub name: &'static str,
    help: &'static str,
    defaults: Vec<(&'static str, &'static str)>,
    helps: Vec<(&'static str, &'static str)>,
    status: Option<Status>,
}

/// A group of the file, holding one set of options.
pub(crate) fn group(name: &'static str, help: &'static str) -> Instance {
    Instance {
        name,
        help,
        defaults: Vec::new(),
        helps: Vec::new(),
        status: None,
    }
}

/// A set of options nested in another, in the group of the outer one.
pub(crate) fn set() -> Instance {
    group("", "")
}

impl Instance {
    /// Another default for one option of the set.
    pub(crate) fn with_default(mut self, option: &'static str, default: &'static str) -> Self {
        self.defaults.push((option, default));
        self
    }

    /// Another help text for one option of the set.
    pub(crate) fn with_help(mut self, option: &'static str, help: &'static str) -> Self {
        self.helps.push((option, help));
        self
    }

    /// The same status for every option of the set.
    pub(crate) fn all(mut self, status: Status) -> Self {
        self.status = Some(status);
        self
    }

    /// Registers the options of `S` in `group`, with this instance's
    /// differences.
    pub(crate) fn register<S: OptionSet>(&self, group: &'static str, out: &mut Vec<Entry>) {
        let first = out.len();
        S::register(group, out);
        let entries = &mut out[first..];
        for &(option, default) in &self.defaults {
            find(entries, group, option).opt.default = Some(Default::Text(default));
        }
        for &(option, help) in &self.helps {
            find(entries, group, option).help = help;
        }
        if let Some(status) = self.status {
            for e in entries {
                e.status = status;
            }
        }
    }

    /// Registers this group and its options.
    pub(crate) fn register_group<S: OptionSet>(
        self,
        groups: &mut Vec<Group>,
        out: &mut Vec<Entry>,
    ) {
        groups.push(Group {
            name: self.name,
            help: self.help,
            accept_any: false,
        });
        self.register::<S>(self.name, out);
    }
}

/// The entry of `option` among a set's entries. A misspelt name would
/// silently change nothing, so it is refused (building the registry, which
/// every test does, gets here).
fn find<'a>(entries: &'a mut [Entry], group: &str, option: &str) -> &'a mut Entry {
    entries
        .iter_mut()
        .find(|e| e.opt.name == option)
        .unwrap_or_else(|| panic!("[{group}] has no option {option} to change"))
}

/// Options declared together, and the struct holding the values of those
/// inspector reads.
pub(crate) trait OptionSet: Sized {
    /// Appends the declarations, in sample order, as options of `group`.
    fn register(group: &'static str, out: &mut Vec<Entry>);
    fn read(r: &mut Reader<'_>, group: &'static str) -> Self;
}

/// A field of an option set: one option, or a nested set.
pub(crate) trait Field: Sized {
    /// [`Entry`] for an option, [`Instance`] for a nested set.
    type Spec;
    fn declare(spec: Self::Spec, group: &'static str, name: &'static str, out: &mut Vec<Entry>);
    fn read(r: &mut Reader<'_>, group: &'static str, name: &'static str) -> Self;
}

impl<T: FromOpt> Field for T {
    type Spec = Entry;

    fn declare(spec: Entry, group: &'static str, name: &'static str, out: &mut Vec<Entry>) {
        out.push(spec.named(group, name));
    }

    fn read(r: &mut Reader<'_>, group: &'static str, name: &'static str) -> Self {
        r.read(group, name)
    }
}

/// Declares a set of options and the struct of those inspector reads.
///
/// Each line declares one option, named after its field: `name: Type =
/// opt(...)` is read into field `name` (converted by [`FromOpt`] for `Type`,
/// or by the function after `=>`); `name = opt(...)` is registered but not
/// read; `name: Set = set()...` nests another set. Fields come in
/// declaration order, which is also the order of the sample. For example:
///
/// ```text
/// options! {
///     pub struct Healthcheck {
///         enabled: bool = opt(boolean(), "false", "Serve a health check."),
///         detailed = opt(boolean(), "false", "Show details.").unsupported(),
///     }
/// }
/// ```
///
/// declares `[<group>] enabled` and `[<group>] detailed`, and generates
/// `struct Healthcheck { pub enabled: bool }` with its loader; the group is
/// given where the set is used (see [`groups!`]). Fields cannot carry doc
/// attributes (macro_rules cannot repeat them inside the optional type), so
/// notes on a field are plain comments.
macro_rules! options {
    (
        $(#[$meta:meta])*
        $vis:vis struct $Name:ident {
            $( $opt:ident $(: $ty:ty $(=> $read:path)?)? = $spec:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis struct $Name {
            $( $( pub $opt: $ty, )? )*
        }

        impl $crate::conf::registry::OptionSet for $Name {
            fn register(
                group: &'static str,
                out: &mut Vec<$crate::conf::registry::Entry>,
            ) {
                $( $crate::conf::registry::declare_option!(out, group, $opt $(: $ty)?, $spec); )*
            }

            #[allow(unused_variables)]
            fn read(r: &mut $crate::conf::load::Reader<'_>, group: &'static str) -> Self {
                Self {
                    $( $( $opt: $crate::conf::registry::read_option!(r, group, $opt, $ty $(, $read)?), )? )*
                }
            }
        }

        impl $crate::conf::registry::Field for $Name {
            type Spec = $crate::conf::registry::Instance;

            fn declare(
                spec: Self::Spec,
                group: &'static str,
                _name: &'static str,
                out: &mut Vec<$crate::conf::registry::Entry>,
            ) {
                spec.register::<Self>(group, out);
            }

            fn read(
                r: &mut $crate::conf::load::Reader<'_>,
                group: &'static str,
                _name: &'static str,
            ) -> Self {
                <Self as $crate::conf::registry::OptionSet>::read(r, group)
            }
        }
    };
}

macro_rules! declare_option {
    ($out:ident, $group:ident, $opt:ident : $ty:ty, $spec:expr) => {
        <$ty as $crate::conf::registry::Field>::declare($spec, $group, stringify!($opt), $out)
    };
    ($out:ident, $group:ident, $opt:ident, $spec:expr) => {
        $out.push($crate::conf::registry::Entry::named(
            $spec,
            $group,
            stringify!($opt),
        ))
    };
}

macro_rules! read_option {
    ($r:ident, $group:ident, $opt:ident, $ty:ty) => {
        <$ty as $crate::conf::registry::Field>::read($r, $group, stringify!($opt))
    };
    ($r:ident, $group:ident, $opt:ident, $ty:ty, $read:path) => {
        $read($r, $group, stringify!($opt))
    };
}

/// An enum read from a string option: each variant, its value in the file
/// and, optionally, the help text the sample shows for it.
macro_rules! choices {
    (
        $(#[$meta:meta])*
        pub enum $Name:ident {
            $( $Variant:ident = $value:literal $(: $help:literal)? ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $Name {
            $( $Variant, )*
        }

        impl $Name {
            /// A string type limited to the values, checked by oslo.config
            /// and listed in the sample; a plain string option holding one
            /// of them is checked when inspector reads it.
            #[allow(dead_code)]
            pub(crate) fn checked() -> $crate::oslo::types::OptType {
                $crate::conf::registry::described(&[ $( ($value, concat!("" $(, $help)?)) ),* ])
            }
        }

        impl $crate::conf::load::FromOpt for $Name {
            fn from_value(
                r: &mut $crate::conf::load::Reader<'_>,
                index: usize,
                value: $crate::oslo::types::Value,
            ) -> Option<Self> {
                r.choice(index, value, &[ $( ($value, Self::$Variant) ),* ])
            }
        }
    };
}

/// The groups of the file, in sample order: `field: Set = group(...)` is
/// read into `field`; `_: Set = group(...)` is registered but not read.
/// Each read group's `Default` is its value when no file sets anything.
macro_rules! groups {
    (
        $(#[$meta:meta])*
        pub struct $Name:ident {
            $( $(_)? $($field:ident)? : $Set:ty = $spec:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $Name {
            $( $( pub $field: $Set, )? )*
        }

        impl $Name {
            pub(crate) fn register(
                groups: &mut Vec<$crate::conf::registry::Group>,
                out: &mut Vec<$crate::conf::registry::Entry>,
            ) {
                $( $crate::conf::registry::Instance::register_group::<$Set>($spec, groups, out); )*
            }

            pub(crate) fn read(r: &mut $crate::conf::load::Reader<'_>) -> Self {
                Self {
                    $( $( $field: <$Set as $crate::conf::registry::OptionSet>::read(r, $spec.name), )? )*
                }
            }
        }

        $( $(
            impl Default for $Set {
                fn default() -> Self {
                    DEFAULTS.$field.clone()
                }
            }
        )? )*
    };
}

pub(crate) use {choices, declare_option, groups, options, read_option};

pub(crate) fn string() -> OptType {
    OptType::Str(StrType::default())
}

pub(crate) fn one_of(values: &[&'static str]) -> OptType {
    described(&values.iter().map(|v| (*v, "")).collect::<Vec<_>>())
}

pub(crate) fn one_of_any_case(values: &[&'static str]) -> OptType {
    match one_of(values) {
        OptType::Str(t) => OptType::Str(StrType {
            ignore_case: true,
            ..t
        }),
        other => other,
    }
}

/// One of `values`, or unset (a legal choice of a few library options).
pub(crate) fn one_of_or_unset(values: &[&'static str]) -> OptType {
    OptType::Str(StrType {
        choices: Some(
            std::iter::once(None)
                .chain(values.iter().map(|v| Some(*v)))
                .map(|value| Choice { value, help: None })
                .collect(),
        ),
        ..StrType::default()
    })
}

pub(crate) fn described(values: &[(&'static str, &'static str)]) -> OptType {
    OptType::Str(StrType {
        choices: Some(
            values
                .iter()
                .map(|(v, h)| Choice {
                    value: Some(*v),
                    help: (!h.is_empty()).then_some(*h),
                })
                .collect(),
        ),
        ..StrType::default()
    })
}

pub(crate) fn int() -> OptType {
    OptType::Int(Bounds::default())
}

pub(crate) fn int_min(min: i64) -> OptType {
    OptType::Int(Bounds {
        min: Some(min),
        max: None,
    })
}

pub(crate) fn int_range(min: Option<i64>, max: Option<i64>) -> OptType {
    OptType::Int(Bounds { min, max })
}

pub(crate) fn port() -> OptType {
    OptType::Port(Bounds {
        min: Some(0),
        max: Some(65535),
    })
}

pub(crate) fn float() -> OptType {
    OptType::Float(Bounds::default())
}

pub(crate) fn float_min(min: i64) -> OptType {
    OptType::Float(Bounds {
        min: Some(min),
        max: None,
    })
}

pub(crate) fn boolean() -> OptType {
    OptType::Bool
}

pub(crate) fn list() -> OptType {
    OptType::List(ItemType::Str(StrType::default()))
}

pub(crate) fn int_list() -> OptType {
    OptType::List(ItemType::Int(Bounds::default()))
}

pub(crate) fn dict() -> OptType {
    OptType::Dict(StrType::default())
}

/// A dict whose values may be quoted to hold commas.
pub(crate) fn quoted_dict() -> OptType {
    OptType::Dict(StrType {
        quotes: true,
        ..StrType::default()
    })
}

pub(crate) fn multi_string() -> OptType {
    OptType::MultiStr
}

pub(crate) fn octal() -> OptType {
    OptType::Octal
}
