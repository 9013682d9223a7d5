// Package discovery is how heaptop finds agents: it takes a process's
// identity and gives the per-user directory, the unix socket path and the
// discovery file (<pid>.json) that announce the agent, and it lists the
// agents that are alive, removing what dead processes left behind.
//
// # The rule
//
// Writers (the Go agent) and readers (the Go tests, the TypeScript client)
// follow exactly this rule; change it only on both sides at once.
//
//	heaptop discovery rule, version 1
//
//	1. Directory: the first of
//	   a. $HEAPTOP_DIR, if set and not empty;
//	   b. $XDG_RUNTIME_DIR/heaptop, if XDG_RUNTIME_DIR is set and not empty;
//	   c. <tmp>/heaptop-<uid>, where <tmp> is $TMPDIR if set and not empty,
//	      else /tmp (Go's os.TempDir on Unix; Node's os.tmpdir() also looks
//	      at $TMP and $TEMP, so a reader must not use it), and <uid> is the
//	      real user id in decimal.
//	   A relative path is made absolute against the working directory, and
//	   the result is cleaned (no trailing slash, no "." or ".." elements).
//	2. The writer creates the directory (and missing parents) with mode 0700,
//	   then checks it with lstat: it must be a directory, not a symlink, and
//	   owned by the writer's effective uid; otherwise the agent refuses to
//	   use it. If its mode is not exactly 0700 the writer sets it to 0700.
//	3. Each agent owns two entries, named after its pid in decimal without
//	   leading zeros:
//	     <dir>/<pid>.sock  the gRPC unix socket, mode 0600;
//	     <dir>/<pid>.json  the discovery file, mode 0600.
//	   The socket path must fit in sun_path: at most 107 bytes (108 with the
//	   terminating NUL); a longer path is an error, never truncated.
//	4. The discovery file is written atomically: first <dir>/.<pid>.json.tmp,
//	   then renamed to <dir>/<pid>.json, so a reader never sees a partial
//	   file. It is one JSON object with exactly these fields, in this order:
//	     "pid"           number  the process id (equals the file name's)
//	     "address"       string  "unix://" + absolute socket path, e.g.
//	                             "unix:///run/user/1000/heaptop/4242.sock"
//	     "executable"    string  absolute path of the executable ("" if
//	                             unknown)
//	     "goVersion"     string  runtime.Version(), e.g. "go1.26.8"
//	     "startTime"     string  when the agent started: RFC 3339, UTC, with
//	                             exactly nine fractional digits, e.g.
//	                             "2026-11-27T04:07:00.123456789Z"
//	     "agentVersion"  string  the agent's version, e.g. "0.1.0"
//	   and, only when the agent also listens on TCP (Options.TCP):
//	     "tcp"           string  the "host:port" it listens on, with the port
//	                             it took, e.g. "127.0.0.1:7070"
//	     "tls"           bool    true when that listener speaks TLS (absent
//	                             when it does not)
//	   The token a TCP listener requires is never written here, nor
//	   anywhere else. Readers ignore unknown fields.
//	5. The agent removes both entries when it closes.
//	6. Readers consider only names matching ^[1-9][0-9]*\.json$ that are
//	   regular files. For each they send signal 0 to the pid (kill(pid, 0)).
//	   If that fails with ESRCH the process is dead: the reader ignores the
//	   entry and removes <pid>.json and <pid>.sock (a missing file is not an
//	   error; the Go reader also removes .<pid>.json.tmp). EPERM means the
//	   pid is alive: the entry is kept. A file whose JSON does not parse, or
//	   whose "pid" differs from its name, is ignored but not removed.
//	7. A writer starting with pid P removes a leftover <dir>/P.sock first:
//	   no live process but itself can own that pid.
package discovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// maxSocketPath is the longest unix socket path bind(2) accepts on Linux:
// sun_path is 108 bytes and a path name must end in NUL (see
// syscall.SockaddrUnix.sockaddr).
const maxSocketPath = 107

// dirMode is the only mode the discovery directory may have.
const dirMode fs.FileMode = 0o700

// fileMode is the mode of the socket and the discovery file.
const fileMode fs.FileMode = 0o600

// startTimeLayout is RFC 3339 with exactly nine fractional digits, so that
// the field has one fixed shape (time.RFC3339Nano drops trailing zeros).
const startTimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// Record is the content of a discovery file, field for field (rule 4).
type Record struct {
	PID          int    `json:"pid"`
	Address      string `json:"address"`
	Executable   string `json:"executable"`
	GoVersion    string `json:"goVersion"`
	StartTime    string `json:"startTime"`
	AgentVersion string `json:"agentVersion"`
	TCP          string `json:"tcp,omitempty"`
	TLS          bool   `json:"tls,omitempty"`
}

// FormatStartTime formats t as a Record's StartTime.
func FormatStartTime(t time.Time) string { return t.UTC().Format(startTimeLayout) }

// Dir returns the discovery directory for the current user (rule 1). It
// neither creates nor checks it; see Prepare.
func Dir() (string, error) {
	d := os.Getenv("HEAPTOP_DIR")
	if d == "" {
		if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
			d = filepath.Join(x, "heaptop")
		} else {
			d = filepath.Join(os.TempDir(), "heaptop-"+strconv.Itoa(os.Getuid()))
		}
	}
	abs, err := filepath.Abs(d)
	if err != nil {
		return "", fmt.Errorf("discovery directory %q: %w", d, err)
	}
	return abs, nil
}

// Prepare creates dir if needed and makes sure only the current user can
// use it (rule 2): a directory, not a symlink, owned by us, mode 0700.
func Prepare(dir string) error {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("discovery directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("discovery directory: %w", err)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("discovery directory %s is a symlink; refusing to use it", dir)
	case !fi.IsDir():
		return fmt.Errorf("discovery directory %s is not a directory (%s)", dir, fi.Mode().Type())
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("discovery directory %s: cannot tell its owner", dir)
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Errorf("discovery directory %s is owned by uid %d, not by us (uid %d); refusing to use it", dir, st.Uid, uid)
	}
	if fi.Mode().Perm() != dirMode {
		if err := os.Chmod(dir, dirMode); err != nil {
			return fmt.Errorf("discovery directory %s has mode %#o and cannot be set to %#o: %w", dir, fi.Mode().Perm(), dirMode, err)
		}
	}
	return nil
}

// SocketPath returns <dir>/<pid>.sock (rule 3), or an error naming the
// length if it does not fit in a unix socket address.
func SocketPath(dir string, pid int) (string, error) {
	p := filepath.Join(dir, strconv.Itoa(pid)+".sock")
	if len(p) > maxSocketPath {
		return "", fmt.Errorf("socket path %s is %d bytes, longer than the %d a unix socket allows; set HEAPTOP_DIR to a shorter directory", p, len(p), maxSocketPath)
	}
	return p, nil
}

// Address returns the gRPC address of a unix socket path: "unix://" + path.
func Address(socketPath string) string { return "unix://" + socketPath }

// FilePath returns <dir>/<pid>.json (rule 3).
func FilePath(dir string, pid int) string {
	return filepath.Join(dir, strconv.Itoa(pid)+".json")
}

// tempPath returns the name a discovery file is written under before it is
// renamed into place (rule 4). Readers never match it (it starts with a dot).
func tempPath(dir string, pid int) string {
	return filepath.Join(dir, "."+strconv.Itoa(pid)+".json.tmp")
}

// Write publishes r as <dir>/<r.PID>.json, mode 0600, atomically (rule 4).
func Write(dir string, r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := tempPath(dir, r.PID)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, fileMode)
	if err != nil {
		return fmt.Errorf("discovery file: %w", err)
	}
	// A leftover temp file of an earlier process with our pid keeps its
	// mode through O_TRUNC; set ours.
	err = f.Chmod(fileMode)
	if err == nil {
		_, err = f.Write(b)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, FilePath(dir, r.PID))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("discovery file: %w", err)
	}
	return nil
}

// Remove deletes the entries of pid in dir: the discovery file, the socket
// and a leftover temp file (rules 5 to 7). Missing files are not errors;
// the first other error is returned after trying all three.
func Remove(dir string, pid int) error {
	var first error
	for _, p := range []string{FilePath(dir, pid), filepath.Join(dir, strconv.Itoa(pid)+".sock"), tempPath(dir, pid)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	return first
}

// Alive reports whether a process with this pid exists, by kill(pid, 0):
// only ESRCH means it does not (EPERM means it exists but is not ours).
func Alive(pid int) bool {
	return syscall.Kill(pid, 0) != syscall.ESRCH
}

var fileName = regexp.MustCompile(`^[1-9][0-9]*\.json$`)

// List reads the discovery files in dir and returns the records of live
// processes, ordered by pid. It removes the entries of dead processes
// (rule 6). A missing directory lists nothing.
func List(dir string) ([]Record, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("discovery directory: %w", err)
	}
	var live []Record
	for _, e := range entries {
		if !fileName.MatchString(e.Name()) || !e.Type().IsRegular() {
			continue
		}
		pid, err := strconv.Atoi(e.Name()[:len(e.Name())-len(".json")])
		if err != nil {
			continue // too large for an int: no such pid
		}
		if !Alive(pid) {
			Remove(dir, pid)
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var r Record
		if json.Unmarshal(b, &r) != nil || r.PID != pid {
			continue
		}
		live = append(live, r)
	}
	slices.SortFunc(live, func(a, b Record) int { return a.PID - b.PID })
	return live, nil
}
