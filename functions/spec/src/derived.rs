//! Values derived from a spec: the source reference, where the result goes, run_as.

use crate::model::Customization;
use crate::reference::Reference;
use crate::run_as::RunAs;

impl Customization {
    /// The parsed source reference. Meaningful after [`Customization::validate`] succeeded;
    /// otherwise a best-effort value (the whole text as the repository) and never a panic.
    pub fn source_ref(&self) -> Reference {
        Reference::parse(&self.source).unwrap_or_else(|_| Reference {
            registry: None,
            repository: self.source.clone(),
            tag: None,
            digest: None,
        })
    }

    /// The repository the result is pushed to, without registry host: `destination`'s
    /// repository if set, else the source repository.
    pub fn destination_repository(&self) -> String {
        match &self.destination {
            Some(destination) => {
                Reference::parse(destination).map(|r| r.repository).unwrap_or_else(|_| destination.clone())
            }
            None => self.source_ref().repository,
        }
    }

    /// The result tag, `<source tag>_<tag_suffix>` (`latest` stands in for a missing tag).
    pub fn result_tag(&self) -> String {
        let source = self.source_ref();
        let tag = source.tag.as_deref().unwrap_or("latest");
        format!("{tag}_{}", self.tag_suffix)
    }

    /// The full result reference: the source's registry, [`Self::destination_repository`]
    /// and [`Self::result_tag`], without digest.
    pub fn result_ref(&self) -> Reference {
        Reference {
            registry: self.source_ref().registry,
            repository: self.destination_repository(),
            tag: Some(self.result_tag()),
            digest: None,
        }
    }

    /// Who the image runs as, if set. An invalid value (not validated) comes back as a
    /// name, so that it fails to resolve rather than silently meaning root.
    pub fn run_as(&self) -> Option<RunAs> {
        self.accounts.run_as.as_ref().map(|text| RunAs::parse(text).unwrap_or_else(|_| RunAs::Name(text.clone())))
    }

    /// Checks every rule and returns all problems found, each with its field path.
    pub fn validate(&self) -> std::result::Result<(), Vec<crate::Problem>> {
        crate::validate::validate(self)
    }
}
