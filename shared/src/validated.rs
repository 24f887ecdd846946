//! `validated_string!`: the newtype every checked string of the API is (identity ids, provider
//! keys, tenant ids, note ids, display names), so a value that exists passed its parser.

/// A validated string newtype, `pub struct T(String) = parse;`, whose only way in is `parse`
/// (`String -> Result<T, AppError>`). Serde writes it as its plain string, so stored items and
/// GraphQL output carry the string unchanged, and reads it back only through `parse`, so an id
/// read from the table is as checked as one read from a client. Adds `as_str` and `Display`.
macro_rules! validated_string {
    ($(#[$attr:meta])* pub struct $ty:ident(String) = $parse:expr;) => {
        $(#[$attr])*
        #[derive(
            Debug,
            Clone,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            ::serde::Serialize,
            ::serde::Deserialize,
        )]
        #[serde(try_from = "String", into = "String")]
        pub struct $ty(String);

        impl $ty {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $crate::error::AppError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                ($parse)(raw)
            }
        }

        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.0
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use validated_string;
