package ingest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
)

// machine describes where the benchmark ran.
func machine(ctx context.Context) string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(data)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(data)) {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				if _, err := fmt.Sscan(rest, &kb); err == nil {
					mem = fmt.Sprintf(", %d GiB", (kb+(1<<19))>>20)
				}
			}
		}
	}
	kernel := ""
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(data))
	}
	goVersion := runtime.Version()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output(); err == nil {
		goVersion = strings.TrimSpace(string(out)) // what built the targets
	}
	return fmt.Sprintf("%d CPUs (%s)%s%s, %s", runtime.NumCPU(), cpu, mem, kernel, goVersion)
}

// Filesystem magic numbers from statfs(2).
const (
	fsExt4    = 0xEF53
	fsTmpfs   = 0x01021994
	fsXFS     = 0x58465342
	fsBtrfs   = 0x9123683E
	fsOverlay = 0x794C7630
)

// tempDirNote says on what kind of filesystem the databases live: on
// tmpfs an fsync costs nothing and the figures would flatter rathaus.
func tempDirNote(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "temporary files in " + dir
	}
	name := fmt.Sprintf("filesystem type %#x", st.Type)
	switch st.Type {
	case fsExt4:
		name = "ext4"
	case fsTmpfs:
		name = "tmpfs: **fsync costs nothing here, the durable targets look faster than on a disk; set TMPDIR to a disk**"
	case fsXFS:
		name = "xfs"
	case fsBtrfs:
		name = "btrfs"
	case fsOverlay:
		name = "overlayfs"
	}
	return "temporary files (databases) on " + name
}

// mautrixVersion is the mautrix module the benchmark is built with, the
// same go.mod as bareas.
func mautrixVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "maunium.net/go/mautrix" {
				return "mautrix " + dep.Version
			}
		}
	}
	return "mautrix"
}
