//! What API Gateway's JWT authorizer adds to a request once it has verified a token. The
//! local stack plays the authorizer with this, and handler tests build requests with it, so
//! both hand the handlers exactly the context they get in AWS.

use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription,
    ApiGatewayV2httpRequestContext,
};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use std::collections::HashMap;

/// The request as an HTTP API with a JWT authorizer would pass it on: `claims` under
/// `requestContext.authorizer.jwt.claims`.
pub fn with_jwt_claims(request: Request, claims: HashMap<String, String>) -> Request {
    let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
    jwt.claims = claims;
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.jwt = Some(jwt);
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.authorizer = Some(authorizer);
    request.with_request_context(RequestContext::ApiGatewayV2(context))
}
