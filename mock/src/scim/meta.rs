//! The fixed SCIM discovery documents: service provider config, resource types and schemas.

use serde_json::{Value, json};

pub(crate) const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(crate) const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

pub(crate) fn service_provider_config() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "",
        "patch": {"supported": false},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": 99999},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": false},
        "authenticationSchemes": {
            "name": "OAuth Bearer Token",
            "description": "Send the organization's SCIM token as a bearer token.",
            "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
            "type": "oauthbearertoken",
        },
    })
}

pub(crate) fn resource_type_user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "description": "A member of the organization",
        "endpoint": "/Users",
        "schema": USER_URN,
    })
}

fn attribute(name: &str, kind: &str, required: bool, uniqueness: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": format!("The user's {name}."),
        "required": required,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": uniqueness,
    })
}

pub(crate) fn user_schema() -> Value {
    let mut name = attribute("name", "complex", false, "none");
    name["subAttributes"] = json!([
        attribute("givenName", "string", false, "none"),
        attribute("familyName", "string", false, "none"),
    ]);
    let mut emails = attribute("emails", "complex", false, "none");
    emails["multiValued"] = json!(true);
    emails["subAttributes"] = json!([
        attribute("value", "string", false, "none"),
        attribute("display", "string", false, "none"),
        attribute("primary", "boolean", false, "none"),
    ]);
    let mut groups = attribute("groups", "complex", false, "none");
    groups["multiValued"] = json!(true);
    groups["mutability"] = json!("readOnly");
    groups["subAttributes"] = json!([
        attribute("value", "string", false, "none"),
        attribute("display", "string", false, "none"),
    ]);
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER_URN,
        "name": "User",
        "description": "User Account",
        "attributes": [
            attribute("userName", "string", true, "server"),
            name,
            attribute("displayName", "string", false, "none"),
            attribute("active", "boolean", false, "none"),
            emails,
            groups,
        ],
    })
}

/// A SCIM list response holding all of `resources`.
pub(crate) fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_URN],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}
