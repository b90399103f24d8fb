package ozg

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
)

// The intake API (docs/ozg.md, "Intake API"): an online service's backend
// asks for a help link for a stuck citizen with its API key and an
// Idempotency-Key, and gets a single-use link that expires after
// MaxLifetime. The link carries a context rathaus signs itself
// (intakelink.go), so opening it is the signed link's hand-over.

// IdempotencyWindow is how long an Idempotency-Key counts: a retry within
// it gets the first answer back.
const IdempotencyWindow = 24 * time.Hour

// Per service, the intake API allows a burst of intakeBurst requests and
// intakeRate a second after that; more is answered 429.
const (
	intakeRate  = 2.0
	intakeBurst = 60
)

// HelpRequest is a stored help request (HelpRequestStore).
type HelpRequest struct {
	ServiceID      string
	IdempotencyKey string
	RequestID      string
	// Fingerprint is the SHA-256 of the request's normalised fields.
	Fingerprint string
	// Context is the signed context of the citizen's link.
	Context   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// HelpRequestStore keeps help requests by idempotency key and rathaus's
// link key. *store.Store implements it through internal/app.
type HelpRequestStore interface {
	IntakeKeyStore
	// CreateHelpRequest is called for every valid help request: it stores
	// r unless the service made a request with the same idempotency key
	// at or after notBefore, and returns the request that holds the key
	// (r or the earlier one) and whether it is r.
	CreateHelpRequest(ctx context.Context, r HelpRequest, notBefore time.Time) (HelpRequest, bool, error)
}

// IntakeOptions configure NewIntake.
type IntakeOptions struct {
	// Config returns the running config; API keys and services are read
	// per request, so a reload adds or removes keys at once.
	Config func() *config.Config
	Store  HelpRequestStore
	Log    zerolog.Logger
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Intake serves the intake API.
type Intake struct {
	opts  IntakeOptions
	key   *intakeKey
	limit *ratelimit.Limiter
}

// NewIntake checks the options.
func NewIntake(opts IntakeOptions) (*Intake, error) {
	if opts.Config == nil || opts.Store == nil {
		return nil, fmt.Errorf("%w: Config and Store", ErrMissingOption)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Intake{opts: opts, key: &intakeKey{store: opts.Store},
		limit: ratelimit.New(ratelimit.Options{Rate: intakeRate, Burst: intakeBurst, Now: opts.Now})}, nil
}

// Route is an HTTP route of the OZG API.
type Route struct {
	Method, Path string
	Handler      http.Handler
}

// Pattern is the route's net/http pattern.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Routes are the intake API's routes, each an operation of the OpenAPI
// document. Mount NotFound on APIPrefix beside them.
func (i *Intake) Routes() []Route {
	return []Route{
		{http.MethodPost, HelpRequestsPath, http.HandlerFunc(i.helpRequest)},
		{http.MethodGet, OpenAPIPath, http.HandlerFunc(serveOpenAPI)},
	}
}

// routeMethods are the methods of the paths of Routes, for NotFound.
var routeMethods = map[string]string{HelpRequestsPath: http.MethodPost, OpenAPIPath: http.MethodGet}

// NotFound answers a path under APIPrefix that is no route (or a route's
// path with another method) in JSON, not with the guest chat's page.
func NotFound(w http.ResponseWriter, r *http.Request) {
	if method, ok := routeMethods[r.URL.Path]; ok {
		w.Header().Set("Allow", method)
		httpapi.WriteError(w, httpapi.ErrMethodNotAllowed)
		return
	}
	httpapi.WriteError(w, httpapi.ErrNotFound)
}

func writeFieldError(w http.ResponseWriter, field, problem string) {
	httpapi.WriteJSON(w, http.StatusBadRequest, FieldErrorAnswer{ErrCode: CodeInvalidField, Error: field + " " + problem, Field: field})
}

// helpRequest is POST help-requests. Neither the body nor the key is
// logged: only the service, the key's id and the request id.
func (i *Intake) helpRequest(w http.ResponseWriter, r *http.Request) {
	cfg := i.opts.Config()
	svc, keyID := i.authenticate(cfg, r)
	if svc == nil {
		// Neither the key nor the address: a misconfigured backend shows
		// up as a run of these.
		i.opts.Log.Warn().Msg("Refused a help request without a valid API key")
		w.Header().Set("WWW-Authenticate", `Bearer realm="rathaus"`)
		httpapi.WriteError(w, httpapi.NewError(http.StatusUnauthorized, httpapi.CodeUnauthorized,
			"missing or unknown API key; send Authorization: Bearer <key>"))
		return
	}
	log := i.opts.Log.With().Str("ozg_service", svc.ID).Str("api_key", keyID).Logger()
	ctx := log.WithContext(r.Context())
	if ok, retry := i.limit.Allow(svc.ID); !ok {
		httpapi.WriteError(w, httpapi.RateLimited(retry))
		return
	}
	idemKey := r.Header.Get(IdempotencyKeyHeader)
	if problem := checkIdempotencyKey(idemKey); problem != "" {
		writeFieldError(w, IdempotencyKeyHeader, problem)
		return
	}
	obj, apiErr := decodeHelpRequest(w, r)
	if apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	// A key of another service is refused before the fields are looked
	// at: they are none of its business.
	if service, _, ok := obj.str("service"); ok && service != "" && service != svc.ID {
		log.Warn().Msg("Refused a help request for another service than the API key's")
		httpapi.WriteError(w, httpapi.NewError(http.StatusForbidden, CodeForbidden, "the API key belongs to another service than the body's service"))
		return
	}
	f, field := readHelpRequest(obj)
	if field != nil {
		writeFieldError(w, field.Field, field.Problem)
		return
	}
	answer, replayed, err := i.create(ctx, cfg, f, idemKey)
	switch {
	case errors.Is(err, errIdempotencyKeyReused):
		log.Warn().Msg("Refused a help request that reuses an idempotency key with other fields")
		httpapi.WriteError(w, httpapi.NewError(http.StatusUnprocessableEntity, CodeIdempotencyKeyReused,
			"the Idempotency-Key was used for a request with other fields; use a new key for a new request"))
		return
	case err != nil:
		log.Error().Err(err).Msg("Failed to create a help request")
		httpapi.WriteError(w, httpapi.ErrInternal)
		return
	}
	if replayed {
		w.Header().Set(ReplayedHeader, "true")
	}
	log.Info().Str("request_id", answer.RequestID).Bool("replayed", replayed).Msg("Issued a help link")
	httpapi.WriteJSON(w, http.StatusCreated, answer)
}

// authenticate finds the service of the request's API key.
func (i *Intake) authenticate(cfg *config.Config, r *http.Request) (*config.OZGServiceConfig, string) {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return nil, ""
	}
	return cfg.OZGServiceByAPIKey(strings.TrimSpace(key))
}

// checkIdempotencyKey returns what is wrong with the header, or "".
func checkIdempotencyKey(k string) string {
	if k == "" {
		return "is required: a unique value per help request, the same on a retry"
	} else if len(k) > MaxIdempotencyKeyLength {
		return fmt.Sprintf("is longer than %d characters", MaxIdempotencyKeyLength)
	}
	for _, c := range []byte(k) {
		if c < 0x21 || c > 0x7e {
			return "must be printable ASCII without spaces"
		}
	}
	return ""
}

// decodeHelpRequest reads the body, which must be one JSON object.
func decodeHelpRequest(w http.ResponseWriter, r *http.Request) (object, *httpapi.Error) {
	var raw json.RawMessage
	if apiErr := httpapi.DecodeJSON(w, r, maxHelpRequestBody, &raw); apiErr != nil {
		return nil, apiErr
	}
	obj, err := decodeObject(raw)
	if err != nil {
		return nil, httpapi.BadRequest("the body must be one JSON object: " + err.Error())
	}
	return obj, nil
}

// readHelpRequest checks the body's fields: only known ones, each checked
// by the context's validator and named as the body names it.
func readHelpRequest(obj object) (Fields, *FieldError) {
	for name := range obj {
		if _, known := helpRequestFields[name]; !known {
			return Fields{}, &FieldError{Field: name, Problem: "is not a field of a help request"}
		}
	}
	bodyName := make(map[string]string, len(helpRequestFields))
	for name, claim := range helpRequestFields {
		bodyName[claim] = name
	}
	return readFields(fieldSource{
		str:  func(claim string) (string, bool, bool) { return obj.str(bodyName[claim]) },
		name: func(claim string) string { return bodyName[claim] },
	})
}

// errIdempotencyKeyReused: the key holds a request with other fields.
var errIdempotencyKeyReused = errors.New("idempotency key reused with other fields")

// create makes the request's link, or returns the one the idempotency
// key already holds.
func (i *Intake) create(ctx context.Context, cfg *config.Config, f Fields, idemKey string) (*HelpRequestAnswer, bool, error) {
	key, err := i.key.get(ctx)
	if err != nil {
		return nil, false, err
	}
	now := i.opts.Now()
	// Whole seconds: the context's iat and exp are, and the stored row
	// must say when the link really expires.
	iat := now.Truncate(time.Second)
	exp := iat.Add(MaxLifetime)
	requestID, err := newRequestID()
	if err != nil {
		return nil, false, err
	}
	token, err := signIntakeContext(key, f, requestID, iat, exp)
	if err != nil {
		return nil, false, err
	}
	fp := fingerprint(f)
	stored, created, err := i.opts.Store.CreateHelpRequest(ctx, HelpRequest{ServiceID: f.ServiceID, IdempotencyKey: idemKey,
		RequestID: requestID, Fingerprint: fp, Context: token, CreatedAt: now, ExpiresAt: exp}, now.Add(-IdempotencyWindow))
	if err != nil {
		return nil, false, err
	}
	if !created && stored.Fingerprint != fp {
		return nil, false, errIdempotencyKeyReused
	}
	return &HelpRequestAnswer{RequestID: stored.RequestID,
		URL:       strings.TrimRight(cfg.GuestChat.PublicURL, "/") + "/hilfe#ctx=" + stored.Context,
		ExpiresAt: stored.ExpiresAt.UTC().Format(time.RFC3339)}, !created, nil
}

// newRequestID is "hr_" and 32 random hex digits: a valid jti.
func newRequestID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("failed to make a request id: %w", err)
	}
	return "hr_" + hex.EncodeToString(b), nil
}

// fingerprint is the SHA-256 of the normalised fields (defaults applied,
// step cleaned), so a retry that spells a field differently but means the
// same counts as the same request.
func fingerprint(f Fields) string {
	b, _ := json.Marshal([]string{f.ServiceID, f.ServiceVersion, f.Leika, f.ARS, f.Step, f.Err, f.Lang, string(f.Trust),
		f.FITConnect.Submission, f.FITConnect.Destination, f.FITConnect.Case})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
