package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"
)

func TestAuthoritySingleMistakes(t *testing.T) {
	tests := []struct {
		name, overlay, key, msg string
	}{
		{"neither ags nor ars", "authority:\n  ags: ''", "authority.ags", "required unless authority.ars"},
		{"ags too short", "authority:\n  ags: '8111000'", "authority.ags", "exactly 8 digits"},
		{"ags unquoted without its leading zero", "authority:\n  ags: 8111000", "authority.ags", "quote it"},
		{"ags with letters", "authority:\n  ags: 0811100A", "authority.ags", "exactly 8 digits"},
		{"ags with unknown Land", "authority:\n  ags: '17111000'", "authority.ags", "Land code from 01 to 16"},
		{"ags with Land 00", "authority:\n  ags: '00111000'", "authority.ags", "Land code"},
		{"ars too long", "authority:\n  ars: '0811100000000'", "authority.ars", "exactly 12 digits"},
		{"ars with unknown Land", "authority:\n  ags: ''\n  ars: '991110000000'", "authority.ars", "Land code"},
		{"ars of another Kreis", "authority:\n  ars: '081150000000'", "authority.ars", "08111____000"},
		{"ars of another Gemeinde", "authority:\n  ars: '081110000001'", "authority.ars", "does not belong to authority.ags"},
		{"short name too long", "authority:\n  short_name: " + strings.Repeat("ß", 33), "authority.short_name", "33 characters"},
		{"short name blank", "authority:\n  short_name: '  '", "authority.short_name", "blank"},
		{"short name placeholder", "authority:\n  short_name: Musterstadt", "authority.short_name", "placeholder"},
		{"avatar http", "authority:\n  avatar: https://bad-beispielheim.de/wappen.png", "authority.avatar", "mxc://server/mediaid"},
		{"avatar without media id", "authority:\n  avatar: mxc://bad-beispielheim.de/", "authority.avatar", "mxc://"},
		{"avatar without server", "authority:\n  avatar: mxc:///abc", "authority.avatar", "mxc://"},
		{"avatar with bad media id", "authority:\n  avatar: mxc://bad-beispielheim.de/a/b", "authority.avatar", "mxc://"},
		{"contact url http", "authority:\n  contact_url: http://bad-beispielheim.de/kontakt", "authority.contact_url", "https://"},
		{"contact url relative", "authority:\n  contact_url: /kontakt", "authority.contact_url", "https://"},
		{"privacy url without host", "authority:\n  privacy_url: 'https:///datenschutz'", "authority.privacy_url", "no host"},
		{"avatar on an example server", "authority:\n  avatar: mxc://stadt.example/wappen", "authority.avatar", `still the placeholder server "stadt.example"`},
		{"contact url placeholder", "authority:\n  contact_url: https://www.stadt.example/kontakt", "authority.contact_url", `still the placeholder host "www.stadt.example"`},
		{"privacy url placeholder", "authority:\n  privacy_url: https://example.com/datenschutz", "authority.privacy_url", `still the placeholder host "example.com"`},
		{"privacy url with credentials", "authority:\n  privacy_url: https://u:p@bad-beispielheim.de/", "authority.privacy_url", "credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ve := validationErrors(t, mergeYAML(t, minimalYAML, tc.overlay))
			require.Len(t, ve, 1, "errors: %v", ve)
			assert.Equal(t, tc.key, ve[0].Key)
			assert.Contains(t, ve[0].Message, tc.msg)
		})
	}
}

func TestAuthorityValidValues(t *testing.T) {
	tests := []struct{ name, overlay string }{
		{"ags and matching ars", "authority:\n  ars: '081110000000'"},
		{"ars with a Gemeindeverband", "authority:\n  ags: '07131001'\n  ars: '071315001001'"},
		{"ars only", "authority:\n  ags: ''\n  ars: '081110000000'"},
		{"Land 16", "authority:\n  ags: '16051000'"},
		{"avatar", "authority:\n  avatar: mxc://bad-beispielheim.de/Wappen_2026-abc"},
		{"avatar on a server with port", "authority:\n  avatar: mxc://127.0.0.1:8448/abc"},
		{"urls with path, query and fragment", "authority:\n  contact_url: https://bad-beispielheim.de/kontakt?x=1\n  privacy_url: https://bad-beispielheim.de/datenschutz#chat"},
		{"short name", "authority:\n  short_name: Bad Beispielheim"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustParse(t, mergeYAML(t, minimalYAML, tc.overlay))
		})
	}
}

func TestShortNameDefaultsToName(t *testing.T) {
	cfg := mustParse(t, minimalYAML)
	assert.Equal(t, "Stadt Bad Beispielheim", cfg.Authority.ShortName)

	// A long name is fine as the short name's default: the limit is for a
	// short name of its own.
	long := "Verbandsgemeindeverwaltung Bad Beispielheim-Nord"
	cfg = mustParse(t, mergeYAML(t, minimalYAML, "authority:\n  name: "+long))
	assert.Equal(t, long, cfg.Authority.ShortName)

	cfg = mustParse(t, mergeYAML(t, minimalYAML, "authority:\n  short_name: Beispielheim\n  avatar: mxc://bad-beispielheim.de/abc"))
	assert.Equal(t, "Beispielheim", cfg.Authority.ShortName)
	assert.Equal(t, id.ContentURIString("mxc://bad-beispielheim.de/abc"), cfg.Authority.Avatar)
}
