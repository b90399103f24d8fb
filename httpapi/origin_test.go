package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/httpapi"
)

func TestParseOrigin(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{url: "https://chat.stadt.example", want: "https://chat.stadt.example"},
		{url: "https://chat.stadt.example/chat/?x=1", want: "https://chat.stadt.example"},
		{url: "http://127.0.0.1:29332/", want: "http://127.0.0.1:29332"},
		{url: "HTTPS://Chat.Stadt.Example", want: "https://Chat.Stadt.Example"},
		{url: "chat.stadt.example"},
		{url: "/chat"},
		{url: ""},
		{url: "https://%zz"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			got, err := httpapi.ParseOrigin(tc.url)
			if tc.want == "" {
				require.ErrorIs(t, err, httpapi.ErrInvalidOrigin)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestSameOrigin(t *testing.T) {
	const origin = "https://chat.stadt.example"
	tests := []struct {
		name, origin, fetchSite string
		want                    bool
	}{
		{name: "no headers (not a browser)", want: true},
		{name: "same origin", origin: origin, fetchSite: "same-origin", want: true},
		{name: "origin case-insensitive", origin: "https://CHAT.stadt.example", want: true},
		{name: "typed into the address bar", fetchSite: "none", want: true},
		{name: "foreign origin", origin: "https://evil.example", want: false},
		{name: "other port", origin: "https://chat.stadt.example:8443", want: false},
		{name: "plain http", origin: "http://chat.stadt.example", want: false},
		{name: "null origin", origin: "null", want: false},
		{name: "same site but other origin", origin: origin, fetchSite: "same-site", want: false},
		{name: "cross site", fetchSite: "cross-site", want: false},
		{name: "right origin, cross-site fetch", origin: origin, fetchSite: "cross-site", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/guest/v1/cases", nil)
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.fetchSite != "" {
				r.Header.Set("Sec-Fetch-Site", tc.fetchSite)
			}
			assert.Equal(t, tc.want, httpapi.SameOrigin(r, origin))
		})
	}
}
