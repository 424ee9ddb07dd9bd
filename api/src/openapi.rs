//! The OpenAPI 3 document, generated from the handlers' annotations. Routes under
//! `/endpoints` are listed again under `/functions`, the alias the router also serves.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::OpenApi;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Mist REST API", version = "2", description = "Deploy Spark functions once, call them as jobs."),
    tags(
        (name = "endpoints", description = "deployed functions (also under /functions)"),
        (name = "jobs", description = "calls of endpoints: submit, follow, cancel"),
        (name = "workers", description = "live Spark drivers"),
        (name = "contexts", description = "Spark settings and worker policy"),
        (name = "artifacts", description = "the files functions come from"),
        (name = "status", description = "health and versions"),
    )
)]
pub struct ApiDoc;

/// Copies every `/v2/api/endpoints…` path to `/v2/api/functions…`, with operation ids
/// made unique as OpenAPI requires.
pub fn add_functions_alias(api: &mut OpenApi) {
    let aliases: Vec<(String, PathItem)> = api
        .paths
        .paths
        .iter()
        .filter_map(|(path, item)| {
            let rest = path.strip_prefix("/v2/api/endpoints")?;
            let mut item = item.clone();
            for operation in operations(&mut item) {
                operation.operation_id = operation.operation_id.take().map(|id| format!("{id}_as_function"));
            }
            Some((format!("/v2/api/functions{rest}"), item))
        })
        .collect();
    api.paths.paths.extend(aliases);
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.options, &mut item.head, &mut item.patch, &mut item.trace]
        .into_iter()
        .filter_map(Option::as_mut)
}
