package appservice

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// TxnID derives a Matrix transaction id from who sends where, the event
// being handled and the purpose of the request, so retries of the same
// work reuse it and different sends never share one. Handlers pass it to
// Sender.Send; see Handler for why every effect must be repeatable.
func TxnID(sender id.UserID, room id.RoomID, cause id.EventID, purpose string) string {
	sum := sha256.Sum256([]byte(string(sender) + "\x00" + string(room) + "\x00" + string(cause) + "\x00" + purpose))
	return "rathaus-" + base64.RawURLEncoding.EncodeToString(sum[:18])
}

// PermanentIfRefused marks errors that a retry cannot fix: the homeserver
// understood the request and said no (4xx other than rate limiting). The
// dispatcher parks an event whose handler returns such an error instead of
// retrying it for an hour.
func PermanentIfRefused(err error) error {
	var httpErr mautrix.HTTPError
	if err != nil && errors.As(err, &httpErr) && httpErr.Response != nil {
		code := httpErr.Response.StatusCode
		if code >= 400 && code < 500 && code != 429 {
			return fmt.Errorf("%w: %w", ErrPermanent, err)
		}
	}
	return err
}
