package store

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

func TestCriticalRunsAndCounts(t *testing.T) {
	g := newGate()
	boom := errors.New("boom")
	if err := g.run(func() error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("run: %v, want fn's error", err)
	}
	if g.committed {
		t.Fatal("a failed section counts as committed")
	}
	ran := false
	if err := g.run(func() error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("run: %v, ran=%v", err, ran)
	}
	if !g.committed {
		t.Fatal("a completed section is not counted")
	}
}

func TestInterruptBeforeAnyCommitRefuses(t *testing.T) {
	g := newGate()
	_ = g.run(func() error { return errors.New("failed, undone") })
	g.interrupt(false)
	ran := false
	if err := g.run(func() error { ran = true; return nil }); !errors.Is(err, ErrInterrupted) || ran {
		t.Fatalf("after Interrupt: %v, ran=%v; want ErrInterrupted and fn not run", err, ran)
	}
	if g.committed {
		t.Fatal("a refused section counts as committed")
	}
}

// waitInterrupted spins (no sleep) until interrupt has marked g.
func waitInterrupted(g *gate) {
	for {
		g.mu.Lock()
		done := g.interrupted
		g.mu.Unlock()
		if done {
			return
		}
		runtime.Gosched()
	}
}

// Interrupt waits for the section in flight, and a section nested in it
// still runs (a Tx.Commit inside a record append must not be cut off).
func TestInterruptWaitsForSectionInFlight(t *testing.T) {
	g := newGate()
	var mu sync.Mutex
	var events []string
	note := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
	done := make(chan struct{})
	err := g.run(func() error {
		go func() { g.interrupt(false); note("interrupt returned"); close(done) }()
		waitInterrupted(g)
		if err := g.run(func() error { note("nested ran"); return nil }); err != nil {
			t.Errorf("nested section refused: %v", err)
		}
		note("section ended")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	<-done
	want := []string{"nested ran", "section ended", "interrupt returned"}
	if len(events) != 3 || events[0] != want[0] || events[1] != want[1] || events[2] != want[2] {
		t.Fatalf("events %q, want %q", events, want)
	}
	if !g.committed {
		t.Fatal("the section that finished during the interrupt is not counted")
	}
}

// After a commit the command is past its point of no return: later sections
// run (Interrupt); after Halt (a second signal) they do not.
func TestAfterCommitSectionsRunUntilHalt(t *testing.T) {
	g := newGate()
	if err := g.run(func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	g.interrupt(false)
	ran := false
	if err := g.run(func() error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("after a commit and Interrupt: %v, ran=%v; want it to run", err, ran)
	}
	g.interrupt(true)
	ran = false
	if err := g.run(func() error { ran = true; return nil }); !errors.Is(err, ErrInterrupted) || ran {
		t.Fatalf("after Halt: %v, ran=%v; want ErrInterrupted", err, ran)
	}
}

func TestCriticalPanicLeavesGateUsable(t *testing.T) {
	g := newGate()
	func() {
		defer func() { _ = recover() }()
		_ = g.run(func() error { panic("boom") })
	}()
	g.interrupt(false) // would hang if the panicking section still counted
	if g.active != 0 || g.committed {
		t.Fatalf("active=%d committed=%v after a panic", g.active, g.committed)
	}
}

// Tx.Commit is a critical section: after an interrupt it writes nothing.
func TestCommitRefusedAfterInterrupt(t *testing.T) {
	saved := processGate
	processGate = newGate()
	defer func() { processGate = saved }()
	dir := t.TempDir()
	Interrupt()
	err := WriteFile(filepath.Join(dir, "a.crt"), []byte("x"), 0o644, false)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("WriteFile after Interrupt: %v, want ErrInterrupted", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 || Committed() {
		t.Fatalf("wrote %d entries (committed=%v) after Interrupt", len(entries), Committed())
	}
}

func TestInterruptedReportsTheSignal(t *testing.T) {
	saved := processGate
	t.Cleanup(func() { processGate = saved })
	processGate = newGate()
	if Interrupted() {
		t.Fatal("Interrupted before Interrupt")
	}
	Interrupt()
	if !Interrupted() {
		t.Fatal("not Interrupted after Interrupt")
	}
}
