//! The Bot API's webhook payload, as Telegram documents it
//! (<https://core.telegram.org/bots/api#update>): one `Update` per request,
//! with `update_id` and at most one of `message`, `edited_message`,
//! `channel_post`, `callback_query`, ….
//!
//! Only what the mapping reads is declared; unknown fields are ignored
//! (Telegram adds fields with every Bot API version). The update's content
//! is kept as JSON and read with [`parse_at`], so an error names the field
//! (`` `message`: missing field `chat` ``).

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use silta_sdk::PluginError;

/// The top level of every webhook request.
#[derive(Debug, Deserialize)]
pub struct Update {
    /// The update's sequential id. A redelivered update has the same one.
    pub update_id: i64,
    /// A new incoming message of any kind.
    #[serde(default)]
    pub message: Option<Value>,
    /// A new version of a message the bot saw before, edited.
    #[serde(default)]
    pub edited_message: Option<Value>,
    /// A new post in a channel the bot administers.
    #[serde(default)]
    pub channel_post: Option<Value>,
    /// An edited channel post.
    #[serde(default)]
    pub edited_channel_post: Option<Value>,
}

/// A message (<https://core.telegram.org/bots/api#message>).
#[derive(Debug, Deserialize)]
pub struct Message {
    /// Unique only inside its chat.
    pub message_id: i64,
    /// The forum topic (supergroups with topics).
    #[serde(default)]
    pub message_thread_id: Option<i64>,
    /// The sender; empty for messages sent to channels.
    #[serde(default)]
    pub from: Option<User>,
    /// Set when the message was sent on behalf of a chat (an anonymous
    /// group admin, a channel's automatic forward).
    #[serde(default)]
    pub sender_chat: Option<Chat>,
    /// Unix seconds when it was sent.
    pub date: i64,
    /// The conversation it belongs to.
    pub chat: Chat,
    /// Unix seconds of the last edit (edited messages).
    #[serde(default)]
    pub edit_date: Option<i64>,
    /// The message this one replies to, in the same chat.
    #[serde(default)]
    pub reply_to_message: Option<Value>,
    /// A text message's text (up to 4096 characters).
    #[serde(default)]
    pub text: Option<String>,
    /// The caption of a photo, document, audio, video or voice message.
    #[serde(default)]
    pub caption: Option<String>,
    /// A photo in the sizes Telegram made of it.
    #[serde(default)]
    pub photo: Option<Vec<PhotoSize>>,
    /// A general file.
    #[serde(default)]
    pub document: Option<File>,
    /// An audio file (music).
    #[serde(default)]
    pub audio: Option<File>,
    /// A video.
    #[serde(default)]
    pub video: Option<File>,
    /// A GIF or soundless H.264 video.
    #[serde(default)]
    pub animation: Option<File>,
    /// A voice note (OGG/Opus).
    #[serde(default)]
    pub voice: Option<File>,
    /// A round video note (MPEG4).
    #[serde(default)]
    pub video_note: Option<File>,
    /// A sticker.
    #[serde(default)]
    pub sticker: Option<Sticker>,
    /// A shared location.
    #[serde(default)]
    pub location: Option<Location>,
    /// A shared venue (a location with a title and an address).
    #[serde(default)]
    pub venue: Option<Venue>,
    /// A shared contact.
    #[serde(default)]
    pub contact: Option<Contact>,
}

/// A Telegram user or bot.
#[derive(Debug, Deserialize)]
pub struct User {
    /// Unique everywhere and the same for every bot; up to 52 bits.
    pub id: i64,
    /// Whether this is a bot.
    #[serde(default)]
    pub is_bot: bool,
    /// The first name (always set for users).
    #[serde(default)]
    pub first_name: Option<String>,
    /// The last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The @username, without `@`.
    #[serde(default)]
    pub username: Option<String>,
    /// The IETF language tag of the user's client.
    #[serde(default)]
    pub language_code: Option<String>,
}

/// A chat: private, group, supergroup or channel.
#[derive(Debug, Deserialize)]
pub struct Chat {
    /// Up to 52 significant bits; negative for groups and channels.
    pub id: i64,
    /// `private`, `group`, `supergroup` or `channel`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The title of a group, supergroup or channel.
    #[serde(default)]
    pub title: Option<String>,
}

/// The message a reply replies to; only its id is read.
#[derive(Debug, Deserialize)]
pub struct Replied {
    /// Its id in the same chat.
    pub message_id: i64,
}

/// One size of a photo.
#[derive(Debug, Deserialize)]
pub struct PhotoSize {
    /// Reusable id to download or re-send the file.
    pub file_id: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Size in bytes.
    #[serde(default)]
    pub file_size: Option<u64>,
}

/// A file: document, audio, video, animation, voice or video note.
#[derive(Debug, Deserialize)]
pub struct File {
    /// Reusable id to download or re-send the file.
    pub file_id: String,
    /// The original file name, as the sender gave it.
    #[serde(default)]
    pub file_name: Option<String>,
    /// The MIME type, as the sender gave it.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub file_size: Option<u64>,
}

/// A sticker.
#[derive(Debug, Deserialize)]
pub struct Sticker {
    /// Reusable id to download or re-send the file.
    pub file_id: String,
    /// An animated (TGS) sticker.
    #[serde(default)]
    pub is_animated: bool,
    /// A video (WEBM) sticker.
    #[serde(default)]
    pub is_video: bool,
    /// The emoji the sticker stands for.
    #[serde(default)]
    pub emoji: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub file_size: Option<u64>,
}

/// A point on the map.
#[derive(Debug, Deserialize)]
pub struct Location {
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
}

/// A venue.
#[derive(Debug, Deserialize)]
pub struct Venue {
    /// Where it is.
    pub location: Location,
    /// Its name.
    pub title: String,
    /// Its address.
    pub address: String,
}

/// A shared phone contact.
#[derive(Debug, Deserialize)]
pub struct Contact {
    /// The phone number, as the sender's address book has it.
    pub phone_number: String,
    /// The first name.
    pub first_name: String,
    /// The last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The contact's Telegram user id, when they use Telegram.
    #[serde(default)]
    pub user_id: Option<i64>,
}

/// Reads `value` as `T`; a mismatch is bad input naming `path`.
///
/// The error names the innermost field that failed
/// (`` `message.chat.id`: invalid type: string "x", expected i64 ``).
pub fn parse_at<T: DeserializeOwned>(path: &str, value: Value) -> Result<T, PluginError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let inner = error.path().to_string();
        let field = if inner == "." {
            path.to_owned()
        } else {
            format!("{path}.{inner}")
        };
        PluginError::bad_input(format!("`{field}`: {}", error.into_inner()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_name_the_field() {
        let error =
            parse_at::<Message>("message", json!({"message_id": 1, "date": 2})).unwrap_err();
        assert_eq!(error.kind(), "bad-input");
        assert_eq!(error.message(), "`message`: missing field `chat`");
        let error = parse_at::<Message>(
            "message",
            json!({"message_id": "1", "date": 2, "chat": {"id": 1, "type": "private"}}),
        )
        .unwrap_err();
        assert!(
            error
                .message()
                .starts_with("`message.message_id`: invalid type"),
            "{error:?}"
        );
    }
}
