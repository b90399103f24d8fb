package tickets

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/ozg/fitconnect"
	"github.com/rathaus-de/rathaus/protocol"
)

// FIT-Connect status callbacks (docs/ozg.md): the sender of a service's
// submissions (its online service, or the FIT-Connect client working for
// it) posts the submission's status to
// POST /api/ozg/v1/fit-connect/callbacks/{service}, signed the way
// FIT-Connect's delivery service signs its callbacks (ozg/fitconnect) with
// the service's fit_connect.callback_secret. A callback that does not
// verify is answered 401 and changes nothing; nothing of its body is read
// or logged.

// CallbackPattern is the route of the callbacks on the public listener.
const CallbackPattern = "POST /api/ozg/v1/fit-connect/callbacks/{service}"

// TypeSubmissionStatus is the type of rathaus's status callback: FIT-Connect's
// envelope, each submission with its "status". FIT-Connect's delivery
// service documents no such callback for senders (they read the event
// log), so the type is rathaus's own.
const TypeSubmissionStatus = "urn:de:rathaus:fit-connect:callbacks:submission-status"

// MaxCallbackBytes bounds a callback's body; FIT-Connect's carry a few ids.
const MaxCallbackBytes = 64 << 10

// maxCallbackSubmissions bounds the submissions of one callback.
const maxCallbackSubmissions = 100

// CodeCallbackRefused is the errcode of a callback that does not verify.
const CodeCallbackRefused = "callback_refused"

// errRefused answers every callback that does not verify, whatever the
// reason (the log says it): the sender learns nothing about the secrets.
var errRefused = httpapi.NewError(http.StatusUnauthorized, CodeCallbackRefused,
	"the callback-authentication or callback-timestamp header is missing, stale or does not match the body")

// CallbackHandler serves CallbackPattern. now is the clock the
// timestamps are checked against (nil: time.Now).
func (s *Submissions) CallbackHandler(now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.callback(w, r, now()) })
}

func (s *Submissions) callback(w http.ResponseWriter, r *http.Request, now time.Time) {
	service := r.PathValue("service")
	log := s.opts.Log.With().Str("ozg_service", service).Logger()
	ctx := log.WithContext(r.Context())
	var secrets [][]byte
	if svc := s.opts.Config().OZGService(service); svc != nil {
		secrets = svc.FITConnect.CallbackSecrets()
	}
	if len(secrets) == 0 {
		log.Warn().Err(errNoSecret).Msg("Refused a FIT-Connect callback")
		httpapi.WriteError(w, errRefused)
		return
	}
	if r.ContentLength > MaxCallbackBytes {
		httpapi.WriteError(w, httpapi.TooLarge(fmt.Sprintf("the body is larger than %d bytes", MaxCallbackBytes)))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxCallbackBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			httpapi.WriteError(w, httpapi.TooLarge(fmt.Sprintf("the body is larger than %d bytes", MaxCallbackBytes)))
		} else {
			httpapi.WriteError(w, httpapi.BadRequest("the body could not be read"))
		}
		return
	}
	if err = verify(secrets, r.Header, body, now); err != nil {
		log.Warn().Err(err).Int("body_bytes", len(body)).Msg("Refused a FIT-Connect callback")
		httpapi.WriteError(w, errRefused)
		return
	}
	reports, apiErr := statusReports(body)
	if apiErr != nil {
		log.Warn().Str("reason", apiErr.Message).Msg("Refused a verified FIT-Connect callback with a bad body")
		httpapi.WriteError(w, apiErr)
		return
	}
	for _, rep := range reports {
		outcome, err := s.ReportSubmissionStatus(ctx, service, rep.submission, rep.status)
		if err != nil {
			log.Error().Err(err).Str("submission_id", rep.submission).Msg("Failed to show a FIT-Connect submission's status")
			// The sender repeats the callback until it is answered 200;
			// what was done already is not done twice.
			httpapi.WriteError(w, httpapi.Unavailable("the status could not be recorded; please repeat the callback"))
			return
		}
		if outcome != OutcomeChanged {
			log.Info().Str("submission_id", rep.submission).Str("submission_status", string(rep.status)).
				Str("outcome", string(outcome)).Msg("A FIT-Connect callback changed nothing")
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, struct{}{})
}

// verify checks the callback against each secret; nil if one matches,
// never without a secret.
func verify(secrets [][]byte, h http.Header, body []byte, now time.Time) error {
	err := errNoSecret
	for _, secret := range secrets {
		if err = fitconnect.Verify(secret, h.Get(fitconnect.HeaderTimestamp), h.Get(fitconnect.HeaderAuthentication), body, now); err == nil {
			return nil
		}
	}
	return err
}

// errNoSecret is logged for a callback to a service without a callback
// secret.
var errNoSecret = errors.New("no fit_connect.callback_secret is configured for this service")

// statusReport is one submission's status of a callback.
type statusReport struct {
	submission string
	status     protocol.SubmissionStatus
}

// statusReports reads a verified callback's body. FIT-Connect's
// new-submissions callback reports its submissions as submitted;
// TypeSubmissionStatus each with its own status; another type is
// ignored (no reports), so that a sender's newer callbacks do not fail.
func statusReports(body []byte) ([]statusReport, *httpapi.Error) {
	c, err := fitconnect.Parse(body)
	if err != nil {
		return nil, httpapi.BadRequest("the body is not a FIT-Connect callback: a JSON object with a type")
	}
	if c.Type != fitconnect.TypeNewSubmissions && c.Type != TypeSubmissionStatus {
		return nil, nil
	}
	if len(c.Submissions) > maxCallbackSubmissions {
		return nil, httpapi.BadRequest(fmt.Sprintf("more than %d submissions", maxCallbackSubmissions))
	}
	out := make([]statusReport, 0, len(c.Submissions))
	for i, sub := range c.Submissions {
		if sub.SubmissionID == "" || len(sub.SubmissionID) > 64 {
			return nil, httpapi.BadRequest(fmt.Sprintf("submissions[%d].submissionId must be a submission id", i))
		}
		status := protocol.SubmissionSubmitted
		if c.Type == TypeSubmissionStatus {
			status = protocol.SubmissionStatus(sub.Status)
			if !status.Valid() {
				return nil, httpapi.BadRequest(fmt.Sprintf("submissions[%d].status must be submitted, forwarded, rejected or accepted", i))
			}
		}
		out = append(out, statusReport{submission: sub.SubmissionID, status: status})
	}
	return out, nil
}
