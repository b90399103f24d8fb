package ozg

// HelpRequestFields are the request body's field names, for the OpenAPI
// test.
var HelpRequestFields = helpRequestFields
