//! `secretsync man`: the man page, generated from the command-line definitions. Printed, it is
//! one page that covers every subcommand, so it refers to no other page; with `--dir` it is
//! `secretsync.1` and one page per subcommand, each referring only to pages written beside it.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, LocalError};

pub fn run(dir: Option<&Path>, out: &mut dyn Write) -> Result<(), Error> {
    let command = man_command();
    match dir {
        Some(dir) => write_pages(command, dir, out)?,
        None => out.write_all(&single_page(&command)?)?,
    }
    Ok(())
}

/// The command line without clap's `help` subcommands, which would get pages of their own.
fn man_command() -> clap::Command {
    let mut command = without_help(crate::cli::command());
    command.build();
    command
}

fn without_help(command: clap::Command) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_string())
        .collect();
    names
        .iter()
        .fold(command.disable_help_subcommand(true), |command, name| {
            command.mut_subcommand(name, without_help)
        })
}

/// The pages `clap_mangen::generate_to` writes: one for the command and one for each of its
/// subcommands, nested ones included (`secretsync-state-new-key.1`).
fn page_names(command: &clap::Command, name: &str, names: &mut Vec<String>) {
    names.push(format!("{name}.1"));
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        page_names(sub, &format!("{name}-{}", sub.get_name()), names);
    }
}

fn write_pages(command: clap::Command, dir: &Path, out: &mut dyn Write) -> Result<(), Error> {
    let unwritable = |error: std::io::Error| LocalError::ManPagesUnwritable {
        dir: dir.to_owned(),
        error,
    };
    std::fs::create_dir_all(dir).map_err(unwritable)?;
    clap_mangen::generate_to(command.clone(), dir).map_err(unwritable)?;
    let mut names = Vec::new();
    page_names(&command, command.get_name(), &mut names);
    for name in names {
        writeln!(out, "{}", dir.join(name).display())?;
    }
    Ok(())
}

/// The main page's sections, then a SUBCOMMANDS section that gives each subcommand's synopsis,
/// description and options in place, instead of naming `secretsync-plan(1)` pages that a
/// printed page does not come with.
fn single_page(command: &clap::Command) -> Result<Vec<u8>, Error> {
    let main = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    main.render_title(&mut page)?;
    main.render_name_section(&mut page)?;
    main.render_synopsis_section(&mut page)?;
    main.render_description_section(&mut page)?;
    main.render_options_section(&mut page)?;
    page.extend_from_slice(b".SH SUBCOMMANDS\n");
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        subcommand(command.get_name(), sub, &mut page)?;
    }
    page.extend_from_slice(
        b".SH \"SEE ALSO\"\n\\fBsecretsync man \\-\\-dir\\fR DIR writes one page per subcommand.\n",
    );
    main.render_version_section(&mut page)?;
    Ok(page)
}

/// One subcommand as a sub-section: its synopsis, description and options, taken from the page
/// clap_mangen renders for it alone, with that page's section headings made sub-headings.
fn subcommand(parent: &str, sub: &clap::Command, page: &mut Vec<u8>) -> Result<(), Error> {
    let man = clap_mangen::Man::new(sub.clone());
    let mut body = Vec::new();
    man.render_synopsis_section(&mut body)?;
    man.render_description_section(&mut body)?;
    man.render_options_section(&mut body)?;
    let body = String::from_utf8_lossy(&body);
    writeln!(page, ".SS \"{parent} {}\"", sub.get_name())?;
    for line in body.lines() {
        match line.strip_prefix(".SH ") {
            // The synopsis repeats the sub-section's heading; the others become bold labels.
            Some("SYNOPSIS") => {}
            Some(heading) => writeln!(page, ".PP\n\\fB{}\\fR\n.br", heading.trim_matches('"'))?,
            None => writeln!(page, "{line}")?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_that_cannot_be_made_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "").unwrap();
        let inside_a_file = file.join("man");
        let mut out = Vec::new();
        let got = run(Some(&inside_a_file), &mut out);
        assert!(
            matches!(&got, Err(Error::Local(LocalError::ManPagesUnwritable { dir, .. })) if *dir == inside_a_file),
            "{got:?}"
        );
        assert!(out.is_empty());
    }
}
