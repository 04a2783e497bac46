//! Thin handlers: extract, call one domain function, render.

pub mod continue_;
pub mod health;
pub mod history;
pub mod introspection;
pub mod root;
pub mod rules;
