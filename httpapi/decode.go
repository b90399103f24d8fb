package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
)

// DecodeJSON reads the JSON request body into v. It answers (and the caller
// writes with WriteError):
//
//   - 415 bad_request (ErrNotJSON) unless Content-Type is application/json;
//   - 413 too_large if the body is longer than maxBytes;
//   - 400 bad_request if the body is empty, is not valid JSON, has a value
//     of the wrong type, or has anything but white space after the value;
//   - 400 bad_request if an object has the same key twice, or a key that
//     names a field of v only when case is ignored ("Body" for "body").
//
// encoding/json would take the last of two equal keys and match keys
// without regard to case. Both let two readers of one body disagree (a
// proxy or a log that takes the first "body", we the last), so the body is
// refused instead ([checkKeys]).
//
// Unknown fields are ignored, as the guest chat always did: a page that
// knows a newer field can still talk to an older server during an upgrade.
// w is used to close the connection of an oversized body; it may be nil.
func DecodeJSON(w http.ResponseWriter, r *http.Request, maxBytes int64, v any) *Error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return ErrNotJSON
	}
	if r.ContentLength > maxBytes {
		return bodyTooLarge(maxBytes)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBytes))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return decodeError(err, maxBytes)
	}
	// One value only: a second one, or garbage, is a client bug worth
	// telling about rather than silently dropping.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if tooLarge(err) {
			return bodyTooLarge(maxBytes)
		}
		return BadRequest("unexpected data after the JSON value")
	}
	if apiErr := checkKeys(raw, reflect.TypeOf(v)); apiErr != nil {
		return apiErr
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return decodeError(err, maxBytes)
	}
	return nil
}

func bodyTooLarge(maxBytes int64) *Error {
	return TooLarge(fmt.Sprintf("the request body is larger than %d bytes", maxBytes))
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// decodeError turns an error of json.Decoder.Decode into the answer.
func decodeError(err error, maxBytes int64) *Error {
	var (
		syntax    *json.SyntaxError
		wrongType *json.UnmarshalTypeError
	)
	switch {
	case tooLarge(err):
		return bodyTooLarge(maxBytes)
	case errors.Is(err, io.EOF):
		return BadRequest("the request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("the JSON body ends early")
	case errors.As(err, &syntax):
		return BadRequest(fmt.Sprintf("invalid JSON at byte %d", syntax.Offset))
	case errors.As(err, &wrongType) && wrongType.Field != "":
		return BadRequest(fmt.Sprintf("field %s has the wrong type (%s)", wrongType.Field, wrongType.Value))
	case errors.As(err, &wrongType):
		return BadRequest(fmt.Sprintf("the JSON body has the wrong type (%s)", wrongType.Value))
	}
	return BadRequest("invalid JSON body")
}
