//! Fault injection in the SDK client: fail the k-th request before it is sent (a crash before
//! the write), or after its response arrived (an ambiguous failure: applied, but the caller
//! sees an error).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// When the injected fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultMode {
    /// The request is never sent.
    BeforeSend,
    /// The request is applied; the response is replaced by an error.
    AfterResponse,
}

/// Fails the k-th request (1-based) counted from the last [`FaultInjector::arm`]; 0 = never.
#[derive(Debug, Clone)]
pub struct FaultInjector {
    seen: Arc<AtomicU64>,
    fail_at: Arc<AtomicU64>,
    mode: Arc<std::sync::Mutex<FaultMode>>,
}

impl Default for FaultInjector {
    fn default() -> Self {
        FaultInjector {
            seen: Arc::new(AtomicU64::new(0)),
            fail_at: Arc::new(AtomicU64::new(0)),
            mode: Arc::new(std::sync::Mutex::new(FaultMode::BeforeSend)),
        }
    }
}

impl FaultInjector {
    /// An injector that fails nothing until armed.
    pub fn new() -> Self {
        Self::default()
    }
    /// Fails the k-th request from now in `mode`.
    pub fn arm(&self, k: u64, mode: FaultMode) {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner()) = mode;
        self.seen.store(0, Ordering::SeqCst);
        self.fail_at.store(k, Ordering::SeqCst);
    }
    /// Stops failing.
    pub fn disarm(&self) {
        self.fail_at.store(0, Ordering::SeqCst);
    }
    fn mode(&self) -> FaultMode {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn strikes(&self, on_send: bool) -> bool {
        let at = self.fail_at.load(Ordering::SeqCst);
        if at == 0 {
            return false;
        }
        if on_send {
            let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
            n == at && self.mode() == FaultMode::BeforeSend
        } else {
            self.seen.load(Ordering::SeqCst) == at && self.mode() == FaultMode::AfterResponse
        }
    }
}

impl Intercept for FaultInjector {
    fn name(&self) -> &'static str {
        "ddbrel-tests::FaultInjector"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.strikes(true) {
            return Err("injected fault: request not sent".into());
        }
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        _context: &BeforeDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.strikes(false) {
            self.disarm();
            return Err("injected fault: response lost".into());
        }
        Ok(())
    }
}
