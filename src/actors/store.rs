//! StoreActor: owns the database on one sync thread so async actors never block on Diesel.

use super::messages::WithStore;
use crate::store::{Store, StoreError};
use actix::prelude::*;

/// Runs `WithStore` operations one at a time on a `SyncArbiter` thread.
pub struct StoreActor {
    store: Store,
}

impl StoreActor {
    /// Starts the actor on its own thread. One thread: SQLite has one writer anyway.
    pub fn start(store: Store) -> Addr<StoreActor> {
        SyncArbiter::start(1, move || StoreActor {
            store: store.clone(),
        })
    }
}

impl Actor for StoreActor {
    type Context = SyncContext<Self>;
}

impl<R: 'static> Handler<WithStore<R>> for StoreActor {
    type Result = Result<R, StoreError>;

    fn handle(&mut self, msg: WithStore<R>, _: &mut Self::Context) -> Self::Result {
        (msg.0)(&self.store)
    }
}
