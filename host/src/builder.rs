//! `postloan-host build`: run each component's `[component.ID.build] command`,
//! like `spin build`.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::manifest::Manifest;

/// Runs the build command of every component that has one (or only of
/// `only`, if given), in the manifest directory or the component's `workdir`.
pub fn build(manifest: &Manifest, only: Option<&str>) -> Result<()> {
    if let Some(id) = only {
        manifest.component_by_id(id)?;
    }
    let mut ran = 0;
    for (id, component) in &manifest.components {
        if only.is_some_and(|o| o != id) {
            continue;
        }
        let Some(build) = &component.build else {
            continue;
        };
        let dir = match &build.workdir {
            Some(w) => manifest.dir.join(w),
            None => manifest.dir.clone(),
        };
        eprintln!(
            "postloan-host: building component `{id}` in {}: {}",
            dir.display(),
            build.command
        );
        let status = Command::new("sh")
            .arg("-c")
            .arg(&build.command)
            .current_dir(&dir)
            .status()
            .with_context(|| {
                format!(
                    "component `{id}`: cannot run build command `{}`",
                    build.command
                )
            })?;
        if !status.success() {
            bail!(
                "build of component `{id}` failed ({status}): command `{}` in {}",
                build.command,
                dir.display()
            );
        }
        ran += 1;
    }
    if ran == 0 {
        eprintln!("postloan-host: no component has a build command; nothing to do");
    }
    Ok(())
}
