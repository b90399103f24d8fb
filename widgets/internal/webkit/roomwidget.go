package webkit

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/rathaus-de/rathaus/httpapi"
)

// What the room widgets (ticket, video) serve alike: the page of a widget
// that any Matrix client may frame, the headers of every other answer, and
// fresh keys for the transaction ids of their actions' notices.

// RoomWidgetCSP lets any page frame the widget (the Matrix client's
// origin is unknown: app.element.io, an authority's own Element Web,
// Element Desktop's vector: scheme, which "*" does not match); scripts,
// styles, images and connections (fetch, WebSocket) only to rathaus.
var RoomWidgetCSP = roomWidgetPolicy().String()

// RoomWidgetCSPConnecting is RoomWidgetCSP that also lets the page connect
// to the origins given (the homeserver, for the sign-in outside a widget
// host).
func RoomWidgetCSPConnecting(origins ...string) string { return roomWidgetPolicy(origins...).String() }

func roomWidgetPolicy(connect ...string) httpapi.CSP {
	return httpapi.CSP{
		httpapi.DefaultSrc:     {httpapi.SourceNone},
		httpapi.ScriptSrc:      {httpapi.SourceSelf},
		httpapi.StyleSrc:       {httpapi.SourceSelf},
		httpapi.ImgSrc:         {httpapi.SourceSelf},
		httpapi.ConnectSrc:     append([]string{httpapi.SourceSelf}, connect...),
		httpapi.FormAction:     {httpapi.SourceNone},
		httpapi.BaseURI:        {httpapi.SourceNone},
		httpapi.FrameAncestors: {"*", "vector:"},
	}
}

// APICSP is the policy of every answer but the page: nothing.
var APICSP = httpapi.CSP{httpapi.DefaultSrc: {httpapi.SourceNone}, httpapi.FrameAncestors: {httpapi.SourceNone}}.String()

// SetAPIHeaders sets the headers every answer of a widget gets; the page
// replaces the CSP with RoomWidgetCSP.
func SetAPIHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", APICSP)
}

// ServeRoomWidgetPage writes a widget's page in the language the client
// hinted ($org.matrix.msc2873.client_language in ?lang=): German unless it
// is English. extra are further headers (Permissions-Policy).
func ServeRoomWidgetPage(w http.ResponseWriter, r *http.Request, page string, extra map[string]string) {
	lang := "de"
	if l := strings.ToLower(r.URL.Query().Get("lang")); l == "en" || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_") {
		lang = "en"
	}
	h := w.Header()
	h.Set("Content-Security-Policy", RoomWidgetCSP)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	for k, v := range extra {
		h.Set(k, v)
	}
	_, _ = w.Write([]byte(strings.Replace(page, `lang="de"`, fmt.Sprintf("lang=%q", lang), 1)))
}

// RequestKey is a fresh key for the transaction id of an action's notice:
// a widget request has no event id (a repeated click sends it again, as a
// repeated command would).
func RequestKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "widget." + hex.EncodeToString(b) + "." + fmt.Sprint(time.Now().UnixMilli())
}

// RoomWidgetWeb is what a room widget serves besides its API: its page,
// with the assets' version in place of {{version}}, and its assets with
// the kit.
type RoomWidgetWeb struct {
	Page   string
	Assets *AssetServer
}

// LoadRoomWidgetWeb reads a widget's web files from dir of files:
// index.html and assets/.
func LoadRoomWidgetWeb(files fs.FS, dir, version string) (RoomWidgetWeb, error) {
	web, err := fs.Sub(files, dir)
	if err != nil {
		return RoomWidgetWeb{}, err
	}
	page, err := fs.ReadFile(web, "index.html")
	if err != nil {
		return RoomWidgetWeb{}, err
	}
	assets, err := fs.Sub(web, "assets")
	if err != nil {
		return RoomWidgetWeb{}, err
	}
	a := NewAssetServer(assets, version)
	return RoomWidgetWeb{Page: strings.ReplaceAll(string(page), "{{version}}", a.Version()), Assets: a}, nil
}

// MountRoomWidget adds what every room widget serves below prefix to m:
// the page, its assets, and the session's sign-in and sign-out.
func MountRoomWidget(m *http.ServeMux, prefix string, page http.HandlerFunc, assets, signIn, signOut http.Handler) {
	m.HandleFunc("GET "+prefix+"{$}", page)
	m.Handle("GET "+prefix+"assets/", http.StripPrefix(prefix+"assets/", assets))
	m.Handle("POST "+prefix+"api/v1/session", signIn)
	m.Handle("DELETE "+prefix+"api/v1/session", signOut)
}
