//! The one error body.

use serde::{Deserialize, Serialize};

/// Every error body, on every route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(
    example = json!({"error": "FORBIDDEN", "description": "this token is not granted advertiser 1002"})
))]
pub struct ErrorBody {
    /// The reason, in UPPER_SNAKE case.
    #[cfg_attr(feature = "openapi", schema(example = "BAD_REQUEST"))]
    pub error: String,
    /// A human sentence.
    pub description: String,
}
