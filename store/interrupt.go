package store

import (
	"sync"
)

// ErrInterrupted is returned by Critical, without running its function, once
// the process has been interrupted (SIGINT, SIGTERM) and nothing it did is
// on disk yet: the command must stop and leave the store as it was.
var ErrInterrupted = newError("interrupted")

// The interrupt gate (README "Output and exit codes": an interrupted command
// either completes or leaves nothing). Every change that must land whole — a
// Tx.Commit, or a record line together with the files it describes — runs
// as one critical section. The CLI's signal handler calls Interrupt, which
// waits for the sections in flight; then, if none has completed, the process
// exits with nothing written, and otherwise the command is past its point of
// no return and runs to its end.
type gate struct {
	mu          sync.Mutex
	idle        *sync.Cond // signalled when active drops to 0
	active      int        // critical sections running, nested ones included
	interrupted bool       // Interrupt was called
	halted      bool       // Halt was called
	committed   bool       // a critical section completed without error
}

func newGate() *gate {
	g := &gate{}
	g.idle = sync.NewCond(&g.mu)
	return g
}

var processGate = newGate()

// Critical runs fn as one critical section: an interrupt waits for it to end,
// so fn's changes land whole or (when fn fails and undoes them) not at all.
// Sections nest (a Tx.Commit inside a section that also appends a record);
// one that starts while another runs always runs. After Interrupt, Critical
// returns ErrInterrupted without calling fn unless a section has already
// completed in this process: then the command has written part of its work
// and finishing it is the only way to leave no half-done state (issue
// creating its local-ca, then the certificate). After Halt it refuses
// whenever no section is running.
func Critical(fn func() error) error { return processGate.run(fn) }

// Interrupt marks the process interrupted and returns once no critical
// section is running. If Committed is false when it returns, it stays false:
// no section can start any more.
func Interrupt() { processGate.interrupt(false) }

// Halt is Interrupt for a second signal: later sections are refused even
// after a commit, so the process can exit at once.
func Halt() { processGate.interrupt(true) }

// Interrupted reports whether Interrupt (or Halt) has been called: a
// command that works through many independent items (batch) lets the
// items in flight finish and starts no new one.
func Interrupted() bool {
	processGate.mu.Lock()
	defer processGate.mu.Unlock()
	return processGate.interrupted
}

// Committed reports whether a critical section has completed without error
// in this process, i.e. whether the store may hold something this command
// wrote.
func Committed() bool {
	processGate.mu.Lock()
	defer processGate.mu.Unlock()
	return processGate.committed
}

func (g *gate) run(fn func() error) (err error) {
	if err := g.enter(); err != nil {
		return err
	}
	ok := false
	defer func() { g.leave(ok) }()
	err = fn()
	ok = err == nil
	return err
}

func (g *gate) enter() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.active == 0 && (g.halted || g.interrupted && !g.committed) {
		return ErrInterrupted
	}
	g.active++
	return nil
}

func (g *gate) leave(ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.active--
	if ok {
		g.committed = true
	}
	if g.active == 0 {
		g.idle.Broadcast()
	}
}

func (g *gate) interrupt(halt bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.interrupted = true
	g.halted = g.halted || halt
	for g.active > 0 {
		g.idle.Wait()
	}
}
