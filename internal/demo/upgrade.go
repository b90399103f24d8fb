package demo

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/config"
)

// upgradeNote heads a config.yaml that upgradeExampleStaff rewrote.
const upgradeNote = `# Upgraded by rathaus-demo: an earlier demo had kept the example's staff,
# users of other servers that the demo homeserver cannot invite. Their
# staff lists now name accounts of the demo homeserver; the previous file is
# config.yaml.old.
`

// upgradeExampleStaff brings a config.yaml written by an earlier demo up to
// date. Earlier demos kept the example's staff (@anna:stadt.example, …):
// users that do not exist here, so rathaus's invitations failed. If every
// department the demo staffs still has exactly the example's staff, nobody
// has edited them, and they are replaced by the demo's accounts in place
// (comments, tokens and every other line stay), the previous file kept as
// config.yaml.old. Staff lists someone edited are left alone. It reports
// whether it rewrote the file.
func upgradeExampleStaff(cfg *config.Config, opts Options, l layout, out *console) (bool, error) {
	example, _ := config.Parse(rathaus.ExampleConfig) // invalid as it stands, but decoded
	if example == nil {
		return false, nil
	}
	want := demoStaff(opts.ServerName())
	var old []string
	for _, w := range want {
		have, ex := cfg.Department(w.department), example.Department(w.department)
		if have == nil || ex == nil || len(ex.Staff) == 0 || !slices.Equal(have.Staff, ex.Staff) {
			return false, nil
		}
		for _, s := range have.Staff {
			old = append(old, string(s.User))
		}
	}

	data, err := os.ReadFile(l.config)
	if err != nil {
		return false, fmt.Errorf("failed to read %s: %w", l.config, err)
	}
	edited, err := editConfig(data, nil, want)
	if err != nil {
		return false, fmt.Errorf("failed to upgrade %s (delete %s to start over): %w", l.config, l.dir, err)
	}
	edited = append([]byte(upgradeNote), edited...)
	check, err := config.Parse(edited)
	if problems := nonTokenProblems(err); len(problems) > 0 {
		return false, fmt.Errorf("upgrading %s would make it invalid (delete %s to start over): %w", l.config, l.dir, problems)
	}
	if err := checkStaff(check, want); err != nil {
		return false, fmt.Errorf("failed to upgrade %s (delete %s to start over): %w", l.config, l.dir, err)
	}

	backup := l.config + ".old"
	if err := os.WriteFile(backup, data, 0o600); err != nil {
		return false, fmt.Errorf("failed to keep the previous config as %s: %w", backup, err)
	}
	tmp := l.config + ".new"
	if err := os.WriteFile(tmp, edited, 0o600); err != nil {
		return false, fmt.Errorf("failed to write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, l.config); err != nil {
		return false, fmt.Errorf("failed to replace %s: %w", l.config, err)
	}
	var deps []string
	for _, w := range want {
		deps = append(deps, string(w.department))
	}
	out.Printf("%s", wrap("", "", fmt.Sprintf("Upgraded %s from an earlier demo: the example's staff (%s) cannot be invited here, so %s now have the demo accounts as staff. The previous file is %s.",
		out.Path(l.config), strings.Join(old, ", "), strings.Join(deps, " and "), out.Path(backup)), announceWidth))
	return true, nil
}
