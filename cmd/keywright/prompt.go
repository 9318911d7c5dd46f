package main

// Prompter asks a person questions on a terminal. Every interactive question
// keywright asks goes through it, so the library behind it (survey today)
// can be replaced by changing one file: prompt_survey.go.
type Prompter interface {
	// Input asks for one line of text. Validate, if set, runs on every
	// answer; a non-nil error is shown and the question asked again.
	Input(q Question) (string, error)
	// Select asks for one of options.
	Select(message string, options []string, def string) (string, error)
	// Password asks for a secret without echo.
	Password(message string) ([]byte, error)
}

// Question is one line of text to ask for.
type Question struct {
	Message  string
	Default  string
	Help     string
	Validate func(string) error
}

// Errors every Prompter returns in place of its library's own.
var (
	// ErrAborted: the person pressed Ctrl-C or Ctrl-D. Exit 130.
	ErrAborted = newError("aborted")
	// ErrNoTTY: there is no terminal to ask on (or --no-input was given).
	ErrNoTTY = newError("no terminal to prompt on")
)

// noPrompter is the Prompter when prompting is impossible or forbidden.
type noPrompter struct{}

func (noPrompter) Input(Question) (string, error)                  { return "", ErrNoTTY }
func (noPrompter) Select(string, []string, string) (string, error) { return "", ErrNoTTY }
func (noPrompter) Password(string) ([]byte, error)                 { return nil, ErrNoTTY }
