package bot_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/departments"
	"github.com/rathaus-de/rathaus/internal/modroot"
)

// informal matches the German forms an authority does not write to its
// staff: du and its cases, the possessive, the second person singular of
// the verbs these texts use, and the imperatives found in earlier texts.
var informal = regexp.MustCompile(`(?i)(^|[^\p{L}])(du|dich|dir|dein\p{L}*|hast|bist|kannst|willst|musst|sollst|darfst|` +
	`bearbeitest|zählst|gehörst|siehst|schreibst|melde dich|schau|sieh|gib|nimm|tippe|antworte|schreib)($|[^\p{L}])`)

// TestInformalFormsAreCaught: the check itself, so it cannot pass by
// matching nothing.
func TestInformalFormsAreCaught(t *testing.T) {
	for _, s := range []string{"Du bearbeitest schon 3 Fälle", "gehört jetzt dir", "Dein Status", "zählst du nicht",
		"Außerhalb der Sprechzeiten bist", "Schau in den Fallraum", "deine Fälle"} {
		assert.Regexp(t, informal, s)
	}
	for _, s := range []string{"Ihr Status / your status", "Sie bearbeiten", "Abteilung für Dienste", "Bürgerdienst",
		"Produktdirektor", "Dirk", "Duplikat", "dirigieren", "Ausgabe", "in den Fallraum"} {
		assert.NotRegexp(t, informal, s)
	}
}

// TestStaffTextsAreFormal: what the bot says to staff addresses them with
// "Sie". It reads the help of every command in the registry as staff see
// it, and every string in the code of the packages that talk to staff
// (bot, cases, departments), so a new reply is checked without being
// listed here.
func TestStaffTextsAreFormal(t *testing.T) {
	router, err := bot.New(bot.Options{AS: &mauas.AppService{}, Sender: &appservice.Sender{}, Rooms: bot.NewRoomIndex(),
		Roles: noRoles{}, IsOurUser: func(id.UserID) bool { return false }})
	require.NoError(t, err)
	require.NoError(t, router.Register((&cases.Service{}).Commands()...))
	require.NoError(t, router.Register((&departments.Service{}).Commands()...))
	help := router.Registry().Help()
	for _, want := range []string{"!rathaus ping", "!rathaus claim", "!rathaus status", "!rathaus sync"} {
		require.Contains(t, help, want, "the registry has every capability's commands")
	}
	for _, line := range strings.Split(help, "\n") {
		assert.NotRegexp(t, informal, line, "help")
	}

	root, err := modroot.Find()
	require.NoError(t, err)
	checked := 0
	for _, pkg := range []string{"bot", "cases", "departments"} {
		files, err := filepath.Glob(filepath.Join(root, pkg, "*.go"))
		require.NoError(t, err)
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			src, err := os.ReadFile(file)
			require.NoError(t, err)
			f, err := parser.ParseFile(token.NewFileSet(), file, src, parser.SkipObjectResolution)
			require.NoError(t, err)
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				checked++
				assert.NotRegexp(t, informal, s, "%s: %s", filepath.Join(pkg, filepath.Base(file)), s)
				return true
			})
		}
	}
	assert.Greater(t, checked, 100, "the strings of the code were read")
}

type noRoles struct{}

func (noRoles) IsStaff(id.UserID) bool { return false }
func (noRoles) IsAdmin(id.UserID) bool { return false }
