package httpapi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rathaus-de/rathaus/httpapi"
)

func TestCSPString(t *testing.T) {
	tests := []struct {
		name string
		csp  httpapi.CSP
		want string
	}{
		{
			name: "a page",
			csp: httpapi.CSP{
				httpapi.FrameAncestors: {"https://portal.stadt.example", "https://service.stadt.example"},
				httpapi.BaseURI:        {httpapi.SourceNone},
				httpapi.ImgSrc:         {httpapi.SourceSelf, "blob:"},
				httpapi.DefaultSrc:     {httpapi.SourceNone},
				httpapi.ScriptSrc:      {httpapi.SourceSelf},
				httpapi.WorkerSrc:      {httpapi.SourceSelf},
				httpapi.StyleSrc:       {httpapi.SourceSelf},
				httpapi.ConnectSrc:     {httpapi.SourceSelf},
				httpapi.FormAction:     {httpapi.SourceSelf},
			},
			want: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; " +
				"worker-src 'self'; form-action 'self'; base-uri 'none'; " +
				"frame-ancestors https://portal.stadt.example https://service.stadt.example",
		},
		{
			name: "a downloaded file",
			csp:  httpapi.CSP{httpapi.Sandbox: nil, httpapi.DefaultSrc: {httpapi.SourceNone}},
			want: "default-src 'none'; sandbox",
		},
		{
			name: "directives it does not know come last, by name",
			csp: httpapi.CSP{"upgrade-insecure-requests": nil, "report-to": {"csp"}, httpapi.Sandbox: {"allow-downloads"},
				httpapi.DefaultSrc: {httpapi.SourceSelf}},
			want: "default-src 'self'; sandbox allow-downloads; report-to csp; upgrade-insecure-requests",
		},
		{name: "empty", csp: httpapi.CSP{}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 { // map order differs between runs; the string must not
				assert.Equal(t, tc.want, tc.csp.String())
			}
		})
	}
}

func TestCSPFrameOptions(t *testing.T) {
	tests := []struct {
		name string
		csp  httpapi.CSP
		want string
	}{
		{name: "framed by nobody", csp: httpapi.CSP{httpapi.FrameAncestors: {httpapi.SourceNone}}, want: "DENY"},
		{name: "framed by itself", csp: httpapi.CSP{httpapi.FrameAncestors: {httpapi.SourceSelf}}, want: "SAMEORIGIN"},
		{name: "framed by a list", csp: httpapi.CSP{httpapi.FrameAncestors: {"https://portal.stadt.example"}}, want: ""},
		{name: "framed by itself and a portal", csp: httpapi.CSP{httpapi.FrameAncestors: {httpapi.SourceSelf, "https://portal.stadt.example"}}, want: ""},
		{name: "no frame-ancestors", csp: httpapi.CSP{httpapi.DefaultSrc: {httpapi.SourceNone}}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.csp.FrameOptions())
		})
	}
}
