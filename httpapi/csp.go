package httpapi

import (
	"slices"
	"strings"
)

// Directive is a Content-Security-Policy directive name.
type Directive string

// The directives CSP knows the order of.
const (
	DefaultSrc     Directive = "default-src"
	ScriptSrc      Directive = "script-src"
	StyleSrc       Directive = "style-src"
	ImgSrc         Directive = "img-src"
	FontSrc        Directive = "font-src"
	ConnectSrc     Directive = "connect-src"
	MediaSrc       Directive = "media-src"
	ObjectSrc      Directive = "object-src"
	WorkerSrc      Directive = "worker-src"
	FrameSrc       Directive = "frame-src"
	ManifestSrc    Directive = "manifest-src"
	FormAction     Directive = "form-action"
	BaseURI        Directive = "base-uri"
	FrameAncestors Directive = "frame-ancestors"
	Sandbox        Directive = "sandbox"
)

// Source expressions used by every page.
const (
	SourceSelf = "'self'"
	SourceNone = "'none'"
)

// directiveOrder is the order String writes directives in: fetch
// directives from the fallback down, then navigation and document ones.
var directiveOrder = []Directive{
	DefaultSrc, ScriptSrc, StyleSrc, ImgSrc, FontSrc, ConnectSrc, MediaSrc, ObjectSrc, WorkerSrc, FrameSrc,
	ManifestSrc, FormAction, BaseURI, FrameAncestors, Sandbox,
}

// CSP is a Content-Security-Policy: each directive with its sources. A
// directive with no sources is written alone (as sandbox is meant to be).
type CSP map[Directive][]string

// String is the header value. Directives come in a fixed order (the known
// ones in directiveOrder, then any others by name), so the same policy is
// always the same string, whatever order it was built in.
func (c CSP) String() string {
	names := make([]Directive, 0, len(c))
	for _, d := range directiveOrder {
		if _, ok := c[d]; ok {
			names = append(names, d)
		}
	}
	var others []Directive
	for d := range c {
		if !slices.Contains(directiveOrder, d) {
			others = append(others, d)
		}
	}
	slices.Sort(others)
	names = append(names, others...)

	var b strings.Builder
	for i, d := range names {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(string(d))
		for _, s := range c[d] {
			b.WriteByte(' ')
			b.WriteString(s)
		}
	}
	return b.String()
}

// FrameOptions is the X-Frame-Options header that says what the policy's
// frame-ancestors says, for browsers and scanners that only know the older
// header: DENY for 'none', SAMEORIGIN for 'self' alone. It is "" (send no
// X-Frame-Options) when the policy has no frame-ancestors, and when it
// allows other origins: X-Frame-Options cannot list origins (ALLOW-FROM was
// never widely implemented and current browsers ignore it), and a DENY or
// SAMEORIGIN next to the list would keep browsers without CSP level 2 from
// showing the page where the operator allowed it. Browsers that know
// frame-ancestors ignore X-Frame-Options anyway.
func (c CSP) FrameOptions() string {
	ancestors, ok := c[FrameAncestors]
	switch {
	case !ok:
		return ""
	case slices.Equal(ancestors, []string{SourceNone}):
		return "DENY"
	case slices.Equal(ancestors, []string{SourceSelf}):
		return "SAMEORIGIN"
	}
	return ""
}
