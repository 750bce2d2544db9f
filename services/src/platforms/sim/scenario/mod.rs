//! The scenarios the simulator runs: each puts one protocol's machines on
//! every core, drives them as their monitors and clients would, and says
//! what must hold (its module doc opens with its checks).

mod barrier;
mod lock;
mod mesh;
mod replica;
mod update;

pub use barrier::BarrierScenario;
pub use lock::LockScenario;
pub use mesh::MeshScenario;
pub use replica::{HistoryOp, ReplicaScenario, ReplicaSetup};
pub use update::UpdateScenario;
