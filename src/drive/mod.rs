//! What drives traffic: arrivals, the driver, the network model, an app under test, replicas
//! and the redis-server they may share, the seed apps. Imports only the layers below.

pub mod app;
pub mod driver;
pub mod network;
pub mod redis_server;
pub mod replicas;
pub mod seed_apps;
pub mod workload;
