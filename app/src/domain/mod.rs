//! Types and rules shared by the browser and the server: [`views`] (what the panel shows)
//! and [`validation`] (what input is acceptable).

pub mod validation;
pub mod views;

pub use validation::*;
pub use views::*;
