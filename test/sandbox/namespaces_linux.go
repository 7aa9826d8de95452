package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// runOutside re-executes this binary as PID 1 of new namespaces and waits.
func runOutside(opts Options) int {
	if err := checkBinaries(opts.BinDir); err != nil {
		fmt.Fprintf(opts.Log, "sandbox: %v\n", err)
		return 1
	}
	removeAbandonedDirs(os.TempDir())
	dir, err := os.MkdirTemp("", workDirPrefix)
	if err != nil {
		fmt.Fprintf(opts.Log, "sandbox: creating the work directory: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := writeOwner(dir, os.Getpid()); err != nil {
		fmt.Fprintf(opts.Log, "sandbox: %v\n", err)
		return 1
	}

	cmd, err := reexec(roleInit, dirEnv+"="+dir, BinDirEnv+"="+opts.BinDir)
	if err != nil {
		fmt.Fprintf(opts.Log, "sandbox: %v\n", err)
		return 1
	}
	cmd.SysProcAttr = namespaceAttrs(os.Getuid(), os.Getgid())

	// Pdeathsig fires when the thread that started the child exits, so keep
	// this goroutine on its thread: if this process is killed, so is init, and
	// with it everything in the sandbox.
	runtime.LockOSThread()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(opts.Log, "sandbox: %v\n", startError(err))
		return 1
	}
	stop := forwardSignals(cmd.Process)
	err = cmd.Wait()
	stop()
	return ExitCode(cmd.ProcessState, err)
}

// startError explains why the sandbox could not start, in one line. The
// kernel answers EPERM when namespaces are not allowed, ENOSPC when the user
// namespace limit is 0, and EINVAL when the kernel lacks one of them.
func startError(err error) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("cannot create network, PID and mount namespaces (%v): run as root, or allow unprivileged user namespaces (sysctl user.max_user_namespaces > 0, kernel.unprivileged_userns_clone=1, kernel.apparmor_restrict_unprivileged_userns=0)", err)
	}
	return fmt.Errorf("starting the sandbox: %w", err)
}

// namespaceAttrs asks for new network, PID and mount namespaces; an ordinary
// user gets them through a user namespace in which it is root.
func namespaceAttrs(uid, gid int) *syscall.SysProcAttr {
	attrs := &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS,
		Pdeathsig:  syscall.SIGKILL,
	}
	if uid != 0 {
		attrs.Cloneflags |= syscall.CLONE_NEWUSER
		attrs.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		attrs.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
		attrs.GidMappingsEnableSetgroups = false
	}
	return attrs
}

// runInit is PID 1 of the sandbox: it prepares the namespaces, starts the
// worker, reaps every process that is orphaned to it (kwokctl daemonizes the
// cluster's components, and a zombie would look alive to kwokctl), and exits
// with the worker's status. Its exit makes the kernel kill what is left.
func runInit(opts Options) int {
	if err := setUpLoopback(); err != nil {
		fmt.Fprintf(opts.Log, "sandbox: bringing up loopback: %v\n", err)
		return 1
	}
	// A fresh /proc shows only the sandbox's processes. It is a convenience
	// (ps, debugging), so a kernel that refuses it does not stop the sandbox.
	_ = mountProc()

	worker, err := reexec(roleWorker)
	if err != nil {
		fmt.Fprintf(opts.Log, "sandbox: %v\n", err)
		return 1
	}
	if err := worker.Start(); err != nil {
		fmt.Fprintf(opts.Log, "sandbox: starting the worker: %v\n", err)
		return 1
	}
	defer forwardSignals(worker.Process)()

	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			fmt.Fprintf(opts.Log, "sandbox: waiting for the worker: %v\n", err)
			return 1
		}
		if pid == worker.Process.Pid {
			return waitStatusCode(status)
		}
	}
}

// reexec prepares this binary, with its arguments, to run in another role.
func reexec(role string, env ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this executable: %w", err)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), append([]string{roleEnv + "=" + role}, env...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd, nil
}

func setUpLoopback() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer func() { _ = unix.Close(fd) }()
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

func mountProc() error {
	// Keep our mounts from propagating to the host's mount namespace.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return err
	}
	return unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}

// forwardSignals relays interrupts to p until the returned func is called.
func forwardSignals(p *os.Process) (stop func()) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-ch:
				_ = p.Signal(sig)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
