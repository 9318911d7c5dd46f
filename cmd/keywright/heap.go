package main

import "runtime/debug"

// lowerHeapGoal is for the commands that go through every certificate or
// event of a store (list, store check, ca log): each is read, printed or
// checked, and dropped, so the live heap stays about 1 MB while the
// default heap goal (twice the live heap, at least 4 MiB) lets garbage
// pile up to several. A goal of 1.25 times the live heap keeps them within
// 20 MiB at 10,000 certificates for a few percent more CPU (README
// "Performance"). Commands that hold more (batch) or allocate little (the
// rest) keep the default. It returns the undo, for the command's end (in
// tests, commands run one after another in one process).
func lowerHeapGoal() (restore func()) {
	old := debug.SetGCPercent(25)
	return func() { debug.SetGCPercent(old) }
}
