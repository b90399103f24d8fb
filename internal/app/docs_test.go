package app

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/bot"
)

// TestDocumentedCommands keeps the docs in step with the registry: every
// command the running rathaus registers is in the role table of
// docs/departments.md under the role that may first run it, and in the
// bot section of docs/architecture.md; nothing documented there is
// unknown to the registry.
func TestDocumentedCommands(t *testing.T) {
	a := built(t)
	cmds := a.router.Registry().Commands()
	require.NotEmpty(t, cmds)

	departments, err := os.ReadFile("../../docs/departments.md")
	require.NoError(t, err)
	row := func(role string) []string {
		m := regexp.MustCompile(`(?m)^\| ` + role + ` \|.*\| ([^|]*) \|$`).FindStringSubmatch(string(departments))
		require.NotNil(t, m, "role %s in the table of docs/departments.md", role)
		return regexp.MustCompile("`([a-zäöüß]+)`").FindAllString(m[1], -1)
	}
	caseworker, admin := row("caseworker"), row("admin")
	architecture, err := os.ReadFile("../../docs/architecture.md")
	require.NoError(t, err)
	botSection := string(architecture)[strings.Index(string(architecture), "## The bot"):]
	botSection = botSection[:strings.Index(botSection[1:], "\n## ")+1]

	documented := map[string]bool{}
	for _, c := range cmds {
		name := "`" + c.Names[0] + "`"
		documented[name] = true
		switch c.Permission {
		case bot.Anyone, bot.Staff:
			assert.Contains(t, caseworker, name, "docs/departments.md: a caseworker may run %s", name)
		case bot.Admin:
			assert.Contains(t, admin, name, "docs/departments.md: an admin may run %s", name)
		}
		assert.Contains(t, botSection, name, "docs/architecture.md, The bot, lists %s", name)
	}
	for _, name := range append(caseworker, admin...) {
		assert.True(t, documented[name], "docs/departments.md lists %s, which rathaus does not register", name)
	}
}

// TestDocsStayInTheRepository: the README and docs/ point only to files
// that ship with the code.
func TestDocsStayInTheRepository(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	require.NoError(t, err)
	files = append(files, "../../README.md")
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.NotContains(t, string(data), "../shared", "%s points outside the repository", f)
	}
}
