package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestNamespaceAttrs(t *testing.T) {
	tests := []struct {
		name     string
		uid      int
		wantUser bool
	}{
		{name: "root needs no user namespace", uid: 0},
		{name: "an ordinary user is root in a user namespace", uid: 1000, wantUser: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := namespaceAttrs(tc.uid, tc.uid)
			for _, flag := range []uintptr{syscall.CLONE_NEWNET, syscall.CLONE_NEWPID, syscall.CLONE_NEWNS} {
				if a.Cloneflags&flag == 0 {
					t.Errorf("clone flag %#x missing", flag)
				}
			}
			if got := a.Cloneflags&syscall.CLONE_NEWUSER != 0; got != tc.wantUser {
				t.Errorf("CLONE_NEWUSER = %v, want %v", got, tc.wantUser)
			}
			if tc.wantUser && (len(a.UidMappings) != 1 || a.UidMappings[0].HostID != tc.uid || a.UidMappings[0].ContainerID != 0) {
				t.Errorf("uid mapping %+v, want 0 -> %d", a.UidMappings, tc.uid)
			}
			if a.Pdeathsig != syscall.SIGKILL {
				t.Errorf("Pdeathsig = %v, want SIGKILL so the sandbox dies with its owner", a.Pdeathsig)
			}
		})
	}
}

func TestStartErrorExplainsRefusedNamespaces(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "not permitted", err: &os.SyscallError{Syscall: "clone", Err: syscall.EPERM}, want: "allow unprivileged user namespaces"},
		{name: "user namespace limit 0", err: syscall.ENOSPC, want: "user.max_user_namespaces > 0"},
		{name: "kernel without namespaces", err: syscall.EINVAL, want: "run as root"},
		{name: "anything else is not blamed on namespaces", err: syscall.ENOENT, want: "starting the sandbox: no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := startError(tc.err).Error()
			if !strings.Contains(got, tc.want) || strings.Contains(got, "\n") {
				t.Errorf("startError(%v) = %q, want one line containing %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestWaitStatusCode(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   int
	}{
		{name: "success", script: "exit 0", want: 0},
		{name: "failure code passes through", script: "exit 3", want: 3},
		{name: "killed by a signal is 128+N", script: "kill -TERM $$", want: 128 + int(syscall.SIGTERM)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("/bin/sh", "-c", tc.script)
			err := cmd.Run()
			if got := ExitCode(cmd.ProcessState, err); got != tc.want {
				t.Errorf("exit code %d, want %d", got, tc.want)
			}
		})
	}
}

func TestRemoveAbandonedDirs(t *testing.T) {
	tmp := t.TempDir()
	dead := exec.Command("/bin/true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	mk := func(name string, owner int) string {
		dir := filepath.Join(tmp, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if owner != 0 {
			if err := writeOwner(dir, owner); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	abandoned := mk(workDirPrefix+"dead", dead.Process.Pid)
	live := mk(workDirPrefix+"live", os.Getpid())
	unowned := mk(workDirPrefix+"new", 0)
	other := mk("not-a-sandbox", dead.Process.Pid)
	// Owned from another PID namespace, where this dead PID may be alive.
	foreign := mk(workDirPrefix+"foreign", 0)
	if err := os.WriteFile(filepath.Join(foreign, ownerFile), []byte(strconv.Itoa(dead.Process.Pid)+" pid:[1]"), 0o600); err != nil {
		t.Fatal(err)
	}

	removeAbandonedDirs(tmp)

	for dir, wantGone := range map[string]bool{abandoned: true, live: false, unowned: false, other: false, foreign: false} {
		_, err := os.Stat(dir)
		if gone := os.IsNotExist(err); gone != wantGone {
			t.Errorf("%s: removed = %v, want %v", filepath.Base(dir), gone, wantGone)
		}
	}
}

func TestMissingBinaryNamesTheFix(t *testing.T) {
	dir := t.TempDir()
	err := checkBinaries(dir)
	if err == nil {
		t.Fatal("want an error for an empty bin directory")
	}
	for _, want := range []string{"kube-apiserver", dir, "make sandbox-bin"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	for _, name := range Binaries {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkBinaries(dir); err != nil {
		t.Errorf("all binaries present: %v", err)
	}
}

// From test/sandbox, the module root is two levels up, not test/tools (a
// module of its own whose path starts the same).
func TestModuleRootFromASubdirectory(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if root != want {
		t.Errorf("moduleRoot() = %s, want %s", root, want)
	}
	t.Chdir("../tools/etcd")
	if root, err := moduleRoot(); err != nil || root != want {
		t.Errorf("from test/tools/etcd: moduleRoot() = %s, %v; want %s", root, err, want)
	}
}

func TestKwokctlOrder(t *testing.T) {
	got := kwokctlOrder([]string{"kube-apiserver=a=1", "kube-apiserver=b=2", "kwok-controller=c=3", "kube-apiserver=d=4", "kwok-controller=e=5"})
	want := []string{"kube-apiserver=a=1", "kwok-controller=c=3", "kube-apiserver=b=2", "kube-apiserver=d=4", "kwok-controller=e=5"}
	if !slices.Equal(got, want) {
		t.Errorf("kwokctlOrder = %q, want %q", got, want)
	}
}
