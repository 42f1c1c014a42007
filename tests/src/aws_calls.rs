//! Every AWS call the functions make in a test, counted by `service:Operation` through an
//! interceptor on the real SDK clients: what a flow costs in round trips, asserted.

use aws_sdk_dynamodb::config::{ConfigBag, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The calls so far, by `service:Operation` (`DynamoDB:Query`, `KMS:GenerateDataKey`).
pub type Calls = BTreeMap<String, usize>;

#[derive(Debug, Clone, Default)]
pub struct AwsCalls {
    counts: Arc<Mutex<Calls>>,
}

impl AwsCalls {
    pub fn snapshot(&self) -> Calls {
        self.counts.lock().expect("counts").clone()
    }

    /// The calls made since `before` (a [`Self::snapshot`]), without the zeros.
    pub fn since(&self, before: &Calls) -> Calls {
        self.snapshot()
            .into_iter()
            .map(|(call, n)| {
                let earlier = before.get(&call).copied().unwrap_or(0);
                (call, n - earlier)
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// The interceptor to add to each client's config.
    pub fn interceptor(&self) -> CountingInterceptor {
        CountingInterceptor {
            counts: self.counts.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CountingInterceptor {
    counts: Arc<Mutex<Calls>>,
}

impl Intercept for CountingInterceptor {
    fn name(&self) -> &'static str {
        "CountingInterceptor"
    }

    /// Once per operation, before its retries (a call the SDK retried counts once, as the
    /// flow made it once), and after the operation's configuration, which names it.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let call = match cfg.load::<Metadata>() {
            Some(metadata) => format!("{}:{}", metadata.service(), metadata.name()),
            None => "unnamed".to_owned(),
        };
        *self.counts.lock().expect("counts").entry(call).or_default() += 1;
        Ok(())
    }
}
