//! Live observations: bounded, classified network probes.

pub mod class;
pub mod cors;
pub mod http;
pub mod idp;
pub mod ldap;
pub mod live;
pub mod outcome;
pub mod pod;
pub mod proxy;
pub mod resolve;
pub mod workstation;
