package ozg

// The HTTP contract of the intake API (docs/ozg.md, "Intake API"; the
// OpenAPI document openapi.json describes the same and a test keeps the
// two in step). Routes live under APIPrefix.

// APIPrefix is the path prefix of the OZG API for online services'
// backends.
const APIPrefix = "/api/ozg/v1/"

// The intake API's paths.
const (
	HelpRequestsPath = APIPrefix + "help-requests"
	OpenAPIPath      = APIPrefix + "openapi.json"
)

// IdempotencyKeyHeader names the header that makes a retried help request
// count once; MaxIdempotencyKeyLength bounds it.
const (
	IdempotencyKeyHeader    = "Idempotency-Key"
	MaxIdempotencyKeyLength = 128
	// ReplayedHeader is set to "true" on the answer to a retry.
	ReplayedHeader = "Idempotent-Replayed"
)

// maxHelpRequestBody bounds the request body: the fields' limits add up
// to well under a kilobyte.
const maxHelpRequestBody = 4096

// helpRequestFields are the request body's fields, each named as in the
// body, with the claim name the shared validator knows it by.
var helpRequestFields = map[string]string{
	"service": "svc.id", "service_version": "svc.version", "leika": "leika", "ars": "ars", "step": "step", "err": "err",
	"lang": "lang", "trust": "trust", "submission": "submission", "destination": "destination", "case": "case",
}

// HelpRequestBody is the body of POST help-requests. Every field is a
// string; unknown fields are refused. The limits are the signed
// context's (docs/ozg.md, "The context"): readFields checks both.
type HelpRequestBody struct {
	// Service is the service's id; it must be the one the API key
	// belongs to.
	Service        string `json:"service"`
	ServiceVersion string `json:"service_version,omitempty"`
	Leika          string `json:"leika"`
	ARS            string `json:"ars,omitempty"`
	Step           string `json:"step,omitempty"`
	Err            string `json:"err,omitempty"`
	Lang           string `json:"lang,omitempty"`
	Trust          string `json:"trust,omitempty"`
	Submission     string `json:"submission,omitempty"`
	Destination    string `json:"destination,omitempty"`
	Case           string `json:"case,omitempty"`
}

// HelpRequestAnswer is the answer (201) to POST help-requests, and the
// same answer again to a retry with the same Idempotency-Key.
type HelpRequestAnswer struct {
	// RequestID identifies the request; it is the ticket's jti, so staff
	// see it in the ticket id (<service>.<request id>).
	RequestID string `json:"request_id"`
	// URL is the citizen's single-use link: guest_chat.public_url +
	// /hilfe#ctx=<context>.
	URL string `json:"url"`
	// ExpiresAt is when the link stops working (RFC 3339, UTC).
	ExpiresAt string `json:"expires_at"`
}

// FieldErrorAnswer is a 400 invalid_field answer: Field names the body's
// field (or the header) that is missing or wrong.
type FieldErrorAnswer struct {
	ErrCode string `json:"errcode"`
	Error   string `json:"error"`
	Field   string `json:"field"`
}

// The intake API's own errcodes, beside httpapi's (bad_request,
// unauthorized, too_large, rate_limited, internal).
const (
	// CodeInvalidField (400): a field of the body, or the
	// Idempotency-Key header, is missing, unknown, of the wrong type or
	// out of its limits; "field" names it.
	CodeInvalidField = "invalid_field"
	// CodeForbidden (403): the API key is valid but belongs to another
	// service than the body's.
	CodeForbidden = "forbidden"
	// CodeIdempotencyKeyReused (422): the Idempotency-Key was used within
	// its window for a request with other fields.
	CodeIdempotencyKeyReused = "idempotency_key_reused"
)
