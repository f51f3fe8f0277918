//! `forward!`: the one way Stook writes an `impl S3`, so the operations each layer answers
//! are listed where they are written and a test can hold them against the evaluator's
//! table (`app::policy::Operation`). An operation in the table that no layer answers would
//! otherwise reach s3s's default and answer NotImplemented with nothing to catch it.
//!
//! The macro writes the whole `#[async_trait]` impl (so `async_trait` sees plain
//! `async fn`s) and a constant naming every method the impl has, passed on or written by
//! hand. For example
//!
//! ```ignore
//! forward! {
//!     answered GATEWAY_OPERATIONS;
//!     impl[B: S3] S3 for Gateway<B>;
//!     pass to backend after ready {
//!         head_bucket(HeadBucketInput) -> HeadBucketOutput;
//!     }
//!     async fn list_buckets(&self, req: S3Request<ListBucketsInput>) -> S3Result<S3Response<ListBucketsOutput>> {
//!         /* by hand */
//!     }
//! }
//! ```
//!
//! expands to
//!
//! ```ignore
//! pub(crate) const GATEWAY_OPERATIONS: &[&str] = &["head_bucket", "list_buckets"];
//!
//! #[async_trait::async_trait]
//! impl<B: S3> S3 for Gateway<B> {
//!     async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
//!         self.ready(&req.input.bucket).await?;
//!         self.backend.head_bucket(req).await
//!     }
//!     async fn list_buckets(&self, req: S3Request<ListBucketsInput>) -> S3Result<S3Response<ListBucketsOutput>> {
//!         /* by hand */
//!     }
//! }
//! ```
macro_rules! forward {
    (
        answered $list:ident;
        impl[$($generics:tt)*] S3 for $self_ty:ty;
        pass to $target:ident after $prepare:ident {
            $( $method:ident($input:ident) -> $output:ident; )*
        }
        $(
            $(#[$attr:meta])*
            async fn $own:ident $args:tt -> $ret:ty { $($body:tt)* }
        )*
    ) => {
        /// Every S3 method this impl answers (passed on or by hand), for the coverage test.
        #[allow(dead_code)]
        pub(crate) const $list: &[&str] = &[$(stringify!($method),)* $(stringify!($own),)*];

        #[async_trait::async_trait]
        impl<$($generics)*> ::s3s::S3 for $self_ty {
            $(
                async fn $method(
                    &self,
                    req: ::s3s::S3Request<::s3s::dto::$input>,
                ) -> ::s3s::S3Result<::s3s::S3Response<::s3s::dto::$output>> {
                    self.$prepare(&req.input.bucket).await?;
                    self.$target.$method(req).await
                }
            )*
            $(
                $(#[$attr])*
                async fn $own $args -> $ret { $($body)* }
            )*
        }
    };
}

pub(crate) use forward;

/// `GetObject` → `get_object`: s3s's method name for an S3 operation.
#[cfg(test)]
pub(crate) fn method_name(operation: &str) -> String {
    let mut method = String::new();
    for (i, c) in operation.char_indices() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                method.push('_');
            }
            method.push(c.to_ascii_lowercase());
        } else {
            method.push(c);
        }
    }
    method
}

#[cfg(test)]
mod tests {
    use super::method_name;
    use app::policy::Operation;

    #[test]
    fn method_names_follow_s3s() {
        assert_eq!(method_name("GetObject"), "get_object");
        assert_eq!(method_name("ListObjectsV2"), "list_objects_v2");
        assert_eq!(method_name("GetBucketCors"), "get_bucket_cors");
    }

    /// An S3 operation no layer answers reaches s3s's default: NotImplemented.
    fn unanswered(answered: &[&str], except: &[Operation]) -> Vec<&'static str> {
        Operation::ALL
            .iter()
            .filter(|o| !except.contains(o))
            // s3s turns a POST upload into `put_object` unless `post_object` is written.
            .filter(|o| **o != Operation::PostObject || !answered.contains(&"put_object"))
            .filter(|o| !answered.contains(&method_name(o.name()).as_str()))
            .map(|o| o.name())
            .collect()
    }

    #[test]
    fn the_gateway_answers_every_operation_of_the_table() {
        let missing = unanswered(crate::s3::gateway::GATEWAY_OPERATIONS, &[]);
        assert!(missing.is_empty(), "not answered by the gateway: {missing:?}");
    }

    #[test]
    fn the_local_backend_answers_every_operation_the_gateway_passes_on() {
        // The gateway answers ListBuckets itself, from the key.
        let missing = unanswered(crate::s3::local::LOCAL_OPERATIONS, &[Operation::ListBuckets]);
        assert!(missing.is_empty(), "not answered by the local backend: {missing:?}");
    }

    #[test]
    fn a_missing_operation_is_caught() {
        let mut answered: Vec<&str> = crate::s3::gateway::GATEWAY_OPERATIONS.to_vec();
        answered.retain(|m| *m != "get_bucket_cors");
        assert_eq!(unanswered(&answered, &[]), ["GetBucketCors"]);
    }
}
