//! Message signatures. nimbus does not sign notifications yet: `Signature` carries this
//! marker and `SigningCertURL` answers 404, so a subscriber's signature check fails
//! rather than passing on a fake (docs/sns.md, "Not supported").

pub const UNSIGNED: &str = "bmltYnVzIGRvZXMgbm90IHNpZ24gU05TIG1lc3NhZ2VzIHlldA==";
