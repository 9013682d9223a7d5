package discovery

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heaptop/heaptop/agent/internal/agenttest"
)

func TestDir(t *testing.T) {
	uid := strconv.Itoa(os.Getuid())
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                       string
		heaptopDir, xdgDir, tmpDir string
		want                       string
	}{
		{"HEAPTOP_DIR wins", "/srv/ht/", "/run/user/7", "/var/tmp", "/srv/ht"},
		{"XDG_RUNTIME_DIR next", "", "/run/user/7", "/var/tmp", "/run/user/7/heaptop"},
		{"TMPDIR next", "", "", "/var/tmp/", "/var/tmp/heaptop-" + uid},
		{"/tmp last", "", "", "", "/tmp/heaptop-" + uid},
		{"relative is made absolute", "ht/../sock", "", "", filepath.Join(wd, "sock")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HEAPTOP_DIR", tt.heaptopDir)
			t.Setenv("XDG_RUNTIME_DIR", tt.xdgDir)
			t.Setenv("TMPDIR", tt.tmpDir)
			got, err := Dir()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Dir() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPrepare(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		wantErr string // substring; "" means success
	}{
		{"missing is created", func(t *testing.T, dir string) {}, ""},
		{"missing parents are created", func(t *testing.T, dir string) {}, ""},
		{"0755 is tightened", func(t *testing.T, dir string) { mkdir(t, dir, 0o755) }, ""},
		{"0777 is tightened", func(t *testing.T, dir string) { mkdir(t, dir, 0o777) }, ""},
		{"symlink is refused", func(t *testing.T, dir string) {
			target := dir + ".real"
			mkdir(t, target, 0o700)
			if err := os.Symlink(target, dir); err != nil {
				t.Fatal(err)
			}
		}, "is a symlink"},
		{"regular file is refused", func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "not a directory"},
		{"other owner is refused", func(t *testing.T, dir string) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to give a directory away")
			}
			mkdir(t, dir, 0o700)
			if err := os.Chown(dir, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, "owned by uid 65534"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ht")
			if strings.Contains(tt.name, "parents") {
				dir = filepath.Join(dir, "a", "b")
			}
			tt.setup(t, dir)
			err := Prepare(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Prepare() = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Prepare() = %v", err)
			}
			fi, err := os.Lstat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
				t.Errorf("after Prepare: mode %v, want a directory with 0700", fi.Mode())
			}
		})
	}
}

func mkdir(t *testing.T, dir string, mode fs.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func TestSocketPath(t *testing.T) {
	dir := "/" + strings.Repeat("d", 95) // 96 bytes; + "/" + pid + ".sock"
	tests := []struct {
		pid     int
		want    string
		wantErr string
	}{
		{1234, dir + "/1234.sock", ""},                    // 106 bytes
		{12345, dir + "/12345.sock", ""},                  // 107 bytes: the longest allowed
		{123456, "", "is 108 bytes, longer than the 107"}, // one too many
	}
	for _, tt := range tests {
		got, err := SocketPath(dir, tt.pid)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SocketPath(pid %d) = %q, %v; want error containing %q", tt.pid, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("SocketPath(pid %d) = %q, %v; want %q", tt.pid, got, err, tt.want)
		}
	}
}

func TestFormatStartTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 27, 4, 7, 0, 123456789, time.UTC), "2026-11-27T04:07:00.123456789Z"},
		{time.Date(2026, 11, 27, 4, 7, 0, 0, time.UTC), "2026-11-27T04:07:00.000000000Z"},
		{time.Date(2026, 11, 27, 5, 7, 0, 1000, time.FixedZone("CET", 3600)), "2026-11-27T04:07:00.000001000Z"},
	}
	for _, tt := range tests {
		if got := FormatStartTime(tt.in); got != tt.want {
			t.Errorf("FormatStartTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestWriteAndList writes the discovery file of this (live) process and
// reads it back, checking the exact JSON a reader in another language sees.
func TestWriteAndList(t *testing.T) {
	dir := t.TempDir()
	pid := os.Getpid()
	r := Record{
		PID:          pid,
		Address:      "unix://" + dir + "/" + strconv.Itoa(pid) + ".sock",
		Executable:   "/usr/local/bin/svc",
		GoVersion:    "go1.26.8",
		StartTime:    "2026-11-27T04:07:00.123456789Z",
		AgentVersion: "0.1.0",
	}
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(FilePath(dir, pid))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o600 {
		t.Errorf("discovery file mode %v, want -rw-------", fi.Mode())
	}
	b, err := os.ReadFile(FilePath(dir, pid))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"pid":` + strconv.Itoa(pid) + `,"address":"unix://` + dir + "/" + strconv.Itoa(pid) +
		`.sock","executable":"/usr/local/bin/svc","goVersion":"go1.26.8",` +
		`"startTime":"2026-11-27T04:07:00.123456789Z","agentVersion":"0.1.0"}`
	if string(b) != want {
		t.Errorf("discovery file:\n got %s\nwant %s", b, want)
	}
	if _, err := os.Stat(tempPath(dir, pid)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temp file left behind: %v", err)
	}

	got, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != r {
		t.Errorf("List() = %+v, want [%+v]", got, r)
	}
}

// TestListRemovesDeadPid plants the entries of a process that has exited
// and checks that a reader drops them, while it keeps a live one and leaves
// files it cannot interpret alone.
func TestListRemovesDeadPid(t *testing.T) {
	dir := t.TempDir()
	dead := agenttest.ExitedPid(t)
	live := os.Getpid()
	for _, pid := range []int{dead, live} {
		if err := Write(dir, Record{PID: pid, Address: "unix:///x"}); err != nil {
			t.Fatal(err)
		}
	}
	deadSock := filepath.Join(dir, strconv.Itoa(dead)+".sock")
	if err := os.WriteFile(deadSock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Names outside the rule are not ours to judge.
	others := map[string]string{"notes.json": "{}", "0123.json": "{}"}
	for name, content := range others {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	got, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].PID != live {
		t.Errorf("List() = %+v, want only pid %d", got, live)
	}
	for _, p := range []string{FilePath(dir, dead), deadSock} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s of dead pid %d: stat = %v, want it removed", filepath.Base(p), dead, err)
		}
	}
	for name := range others {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v, want it left alone", name, err)
		}
	}
}

func TestListMismatchedPidIgnored(t *testing.T) {
	dir := t.TempDir()
	pid := os.Getpid()
	b, _ := json.Marshal(Record{PID: pid + 1})
	if err := os.WriteFile(FilePath(dir, pid), b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := List(dir)
	if err != nil || len(got) != 0 {
		t.Errorf("List() = %+v, %v; want nothing", got, err)
	}
	if _, err := os.Stat(FilePath(dir, pid)); err != nil {
		t.Errorf("file of a live pid was removed: %v", err)
	}
}

func TestListMissingDir(t *testing.T) {
	got, err := List(filepath.Join(t.TempDir(), "none"))
	if err != nil || got != nil {
		t.Errorf("List(missing) = %v, %v; want nil, nil", got, err)
	}
}
