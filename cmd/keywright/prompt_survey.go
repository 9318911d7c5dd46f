package main

// The only file that imports survey (github.com/AlecAivazis/survey/v2, no
// longer maintained upstream): replacing it means rewriting this file.

import (
	"errors"
	"io"
	"os"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/core"
	"github.com/AlecAivazis/survey/v2/terminal"
)

// surveyPrompter asks on a terminal: in is the terminal's input, out where
// the questions are drawn (stderr, so stdout stays data only).
type surveyPrompter struct {
	in  *os.File
	out *os.File
	err io.Writer
}

func newSurveyPrompter(in, out *os.File, noColor bool) Prompter {
	core.DisableColor = noColor
	return &surveyPrompter{in: in, out: out, err: out}
}

func (p *surveyPrompter) opts(extra ...survey.AskOpt) []survey.AskOpt {
	return append([]survey.AskOpt{survey.WithStdio(p.in, p.out, p.err)}, extra...)
}

func (p *surveyPrompter) Input(q Question) (string, error) {
	var answer string
	prompt := &survey.Input{Message: q.Message, Default: q.Default, Help: q.Help}
	var opts []survey.AskOpt
	if q.Validate != nil {
		opts = append(opts, survey.WithValidator(func(v any) error {
			s, _ := v.(string)
			return q.Validate(s)
		}))
	}
	err := survey.AskOne(prompt, &answer, p.opts(opts...)...)
	return answer, translate(err)
}

func (p *surveyPrompter) Select(message string, options []string, def string) (string, error) {
	var answer string
	prompt := &survey.Select{Message: message, Options: options, Default: def}
	err := survey.AskOne(prompt, &answer, p.opts()...)
	return answer, translate(err)
}

func (p *surveyPrompter) Password(message string) ([]byte, error) {
	var answer string
	err := survey.AskOne(&survey.Password{Message: message}, &answer, p.opts()...)
	return []byte(answer), translate(err)
}

// translate turns survey's errors into the Prompter's.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, terminal.InterruptErr), errors.Is(err, io.EOF):
		return ErrAborted
	}
	return err
}
