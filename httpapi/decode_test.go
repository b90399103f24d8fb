package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/httpapi"
)

type message struct {
	TxnID string `json:"txn_id"`
	Body  string `json:"body"`
	Seq   int64  `json:"seq"`
	Pow   *struct {
		Nonce string `json:"nonce"`
	} `json:"pow,omitempty"`
	Tags []struct {
		Name string `json:"name"`
	} `json:"tags,omitempty"`
	Extra map[string]any `json:"extra,omitempty"`
}

func TestDecodeJSON(t *testing.T) {
	const limit = 64
	tests := []struct {
		name        string
		contentType string
		body        string
		unknownLen  bool // send without Content-Length, as a stream
		status      int  // 0: decodes
		errcode     string
		message     string
		want        message
	}{
		{name: "ok", contentType: "application/json", body: `{"txn_id":"t1","body":"Hallo"}`,
			want: message{TxnID: "t1", Body: "Hallo"}},
		{name: "charset parameter", contentType: "application/json; charset=utf-8", body: `{"seq":3}`, want: message{Seq: 3}},
		{name: "unknown fields are ignored", contentType: "application/json", body: `{"body":"x","new":true}`,
			want: message{Body: "x"}},
		// A broken parameter still names the type (mime.ParseMediaType).
		{name: "broken parameter", contentType: "application/json; =", body: `{"seq":2}`, want: message{Seq: 2}},
		{name: "trailing white space", contentType: "application/json", body: "{\"seq\":1}\r\n \t\n", want: message{Seq: 1}},
		{name: "exactly at the limit", contentType: "application/json", body: `{"body":"` + strings.Repeat("a", limit-11) + `"}`,
			want: message{Body: strings.Repeat("a", limit-11)}},

		{name: "no content type", body: `{}`, status: 415, errcode: "bad_request", message: "Content-Type must be application/json"},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: `a=b`, status: 415, errcode: "bad_request"},
		{name: "text/plain", contentType: "text/plain", body: `{}`, status: 415, errcode: "bad_request"},
		{name: "malformed content type", contentType: "application/json/x", body: `{}`, status: 415, errcode: "bad_request"},
		{name: "empty body", contentType: "application/json", body: ``, status: 400, errcode: "bad_request", message: "empty"},
		{name: "only white space", contentType: "application/json", body: "  \n", status: 400, errcode: "bad_request", message: "empty"},
		{name: "syntax error", contentType: "application/json", body: `{"body": x}`, status: 400, errcode: "bad_request", message: "invalid JSON at byte 10"},
		{name: "ends early", contentType: "application/json", body: `{"body": "x"`, status: 400, errcode: "bad_request", message: "ends early"},
		{name: "wrong field type", contentType: "application/json", body: `{"seq":"12"}`, status: 400, errcode: "bad_request", message: "field seq has the wrong type (string)"},
		{name: "array instead of object", contentType: "application/json", body: `[1]`, status: 400, errcode: "bad_request", message: "the JSON body has the wrong type (array)"},
		{name: "second value", contentType: "application/json", body: `{"seq":1}{"seq":2}`, status: 400, errcode: "bad_request", message: "after the JSON value"},
		{name: "trailing garbage", contentType: "application/json", body: `{"seq":1} x`, status: 400, errcode: "bad_request", message: "after the JSON value"},
		// Strict JSON: two readers of one body must not disagree.
		{name: "duplicate key", contentType: "application/json", body: `{"body":"a","body":"b"}`,
			status: 400, errcode: "bad_request", message: "key body appears twice"},
		{name: "duplicate key written with an escape", contentType: "application/json", body: `{"b\u006fdy":"a","body":"b"}`,
			status: 400, errcode: "bad_request", message: "key body appears twice"},
		{name: "duplicate unknown key", contentType: "application/json", body: `{"x":1,"seq":1,"x":2}`,
			status: 400, errcode: "bad_request", message: "key x appears twice"},
		{name: "duplicate nested key", contentType: "application/json", body: `{"pow":{"nonce":"1","nonce":"2"}}`,
			status: 400, errcode: "bad_request", message: "key pow.nonce appears twice"},
		{name: "duplicate key in an array's object", contentType: "application/json", body: `{"tags":[{"name":"a","name":"b"}]}`,
			status: 400, errcode: "bad_request", message: "key tags.name appears twice"},
		{name: "duplicate key in a map", contentType: "application/json", body: `{"extra":{"a":{"b":1,"b":2}}}`,
			status: 400, errcode: "bad_request", message: "key extra.a.b appears twice"},
		{name: "case-folded key", contentType: "application/json", body: `{"Body":"x"}`,
			status: 400, errcode: "bad_request", message: "key Body must be written body"},
		{name: "case-folded key beside the right one", contentType: "application/json", body: `{"body":"x","BODY":"y"}`,
			status: 400, errcode: "bad_request", message: "key BODY must be written body"},
		{name: "case-folded nested key", contentType: "application/json", body: `{"pow":{"Nonce":"1"}}`,
			status: 400, errcode: "bad_request", message: "key pow.Nonce must be written pow.nonce"},
		{name: "same key in two objects", contentType: "application/json", body: `{"tags":[{"name":"a"},{"name":"b"}],"extra":{"A":1,"a":2}}`,
			want: message{Tags: []struct {
				Name string `json:"name"`
			}{{Name: "a"}, {Name: "b"}}, Extra: map[string]any{"A": float64(1), "a": float64(2)}}},
		{name: "too large by Content-Length", contentType: "application/json", body: `{"body":"` + strings.Repeat("a", limit) + `"}`,
			status: 413, errcode: "too_large", message: "larger than 64 bytes"},
		{name: "too large while reading", contentType: "application/json", body: `{"body":"` + strings.Repeat("a", limit) + `"}`,
			unknownLen: true, status: 413, errcode: "too_large"},
		{name: "trailing data over the limit", contentType: "application/json", body: `{"seq":1}` + strings.Repeat(" ", limit),
			unknownLen: true, status: 413, errcode: "too_large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tc.body)
			if tc.unknownLen {
				body = io.MultiReader(body) // hides the length from NewRequest
			}
			r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/v1/x", body)
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			if tc.unknownLen {
				require.EqualValues(t, -1, r.ContentLength)
			}
			var got message
			apiErr := httpapi.DecodeJSON(httptest.NewRecorder(), r, limit, &got)
			if tc.status == 0 {
				require.Nil(t, apiErr)
				assert.Equal(t, tc.want, got)
				return
			}
			require.NotNil(t, apiErr)
			assert.Equal(t, tc.status, apiErr.Status)
			assert.Equal(t, tc.errcode, apiErr.ErrCode)
			assert.Contains(t, apiErr.Message, tc.message)
		})
	}
}

// A nil ResponseWriter is allowed (the connection is then not closed).
func TestDecodeJSONWithoutWriter(t *testing.T) {
	r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/", io.MultiReader(strings.NewReader(`{"body":"`+strings.Repeat("a", 100)+`"}`)))
	r.Header.Set("Content-Type", "application/json")
	var got message
	apiErr := httpapi.DecodeJSON(nil, r, 10, &got)
	require.NotNil(t, apiErr)
	assert.Equal(t, http.StatusRequestEntityTooLarge, apiErr.Status)
}
