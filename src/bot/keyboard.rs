//! Keyboards: the main menu (a reply keyboard whose buttons are recognised in either language)
//! and the inline keyboards built from [`Callback`]s.

use super::callback::Callback;
use super::texts::{ALL, Ui, ui};
use crate::domain::Lang;
use teloxide_core::types::{
    InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, KeyboardMarkup, ReplyMarkup,
};

/// A main-menu button. Each has its own id, so no two menus share a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuButton {
    Add,
    Bulk,
    Pending,
    Restored,
    Expired,
    CheckAll,
    BulkDelete,
    Export,
    Settings,
    Admin,
    Cancel,
}

impl MenuButton {
    const ALL: [MenuButton; 11] = [
        MenuButton::Add,
        MenuButton::Bulk,
        MenuButton::Pending,
        MenuButton::Restored,
        MenuButton::Expired,
        MenuButton::CheckAll,
        MenuButton::BulkDelete,
        MenuButton::Export,
        MenuButton::Settings,
        MenuButton::Admin,
        MenuButton::Cancel,
    ];

    fn label(self, t: &Ui) -> &'static str {
        match self {
            MenuButton::Add => t.menu_add,
            MenuButton::Bulk => t.menu_bulk,
            MenuButton::Pending => t.menu_pending,
            MenuButton::Restored => t.menu_restored,
            MenuButton::Expired => t.menu_expired,
            MenuButton::CheckAll => t.menu_check,
            MenuButton::BulkDelete => t.menu_bulk_delete,
            MenuButton::Export => t.menu_export,
            MenuButton::Settings => t.menu_settings,
            MenuButton::Admin => t.menu_admin,
            MenuButton::Cancel => t.cancel,
        }
    }

    /// The button whose label is `text`, in any language.
    pub fn recognise(text: &str) -> Option<MenuButton> {
        let text = text.trim();
        MenuButton::ALL
            .into_iter()
            .find(|b| ALL.iter().any(|t| b.label(t) == text))
    }
}

/// The main menu; admins get the admin button.
pub fn main_menu(lang: Lang, admin: bool) -> ReplyMarkup {
    let t = ui(lang);
    let b = |m: MenuButton| KeyboardButton::new(m.label(t));
    let mut rows = vec![
        vec![b(MenuButton::Add), b(MenuButton::Bulk)],
        vec![
            b(MenuButton::Pending),
            b(MenuButton::Restored),
            b(MenuButton::Expired),
        ],
        vec![
            b(MenuButton::CheckAll),
            b(MenuButton::BulkDelete),
            b(MenuButton::Export),
        ],
    ];
    let mut last = vec![b(MenuButton::Settings)];
    if admin {
        last.push(b(MenuButton::Admin));
    }
    rows.push(last);
    ReplyMarkup::Keyboard(KeyboardMarkup::new(rows).resize_keyboard().persistent())
}

pub fn button(label: impl Into<String>, callback: Callback) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(label.into(), callback.encode())
}

pub fn inline(rows: Vec<Vec<InlineKeyboardButton>>) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(rows)
}

/// "⏮ ◀️ n/N ▶️ ⏭" for `pages` pages; empty when everything fits on one page.
pub fn pager(page: u32, pages: u32, to: impl Fn(u32) -> Callback) -> Vec<InlineKeyboardButton> {
    if pages <= 1 {
        return Vec::new();
    }
    let last = pages - 1;
    vec![
        button("⏮", to(0)),
        button("◀️", to(page.saturating_sub(1))),
        button(format!("{}/{pages}", page + 1), Callback::Noop),
        button("▶️", to((page + 1).min(last))),
        button("⏭", to(last)),
    ]
}

/// Number of pages for `total` items, at least one.
pub fn pages(total: u64, per_page: u32) -> u32 {
    u32::try_from(total.div_ceil(u64::from(per_page.max(1))))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// Yes / No for a confirmation.
pub fn confirm(lang: Lang, yes: Callback, no: Callback) -> InlineKeyboardMarkup {
    let t = ui(lang);
    inline(vec![vec![button(t.yes, yes), button(t.no, no)]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_buttons_are_recognised_in_both_languages() {
        assert_eq!(
            MenuButton::recognise("➕ Добавить аккаунт"),
            Some(MenuButton::Add)
        );
        assert_eq!(
            MenuButton::recognise(" ➕ Add account "),
            Some(MenuButton::Add)
        );
        assert_eq!(MenuButton::recognise("❌ Cancel"), Some(MenuButton::Cancel));
        assert_eq!(MenuButton::recognise("john.doe"), None);
    }

    #[test]
    fn pager_shape() {
        assert!(pager(0, 1, |p| Callback::Users(crate::store::UserFilter::All, p)).is_empty());
        let row = pager(2, 5, |p| {
            Callback::List(crate::domain::AccountState::Pending, p)
        });
        assert_eq!(row.len(), 5);
        assert_eq!(pages(0, 15), 1);
        assert_eq!(pages(15, 15), 1);
        assert_eq!(pages(16, 15), 2);
    }
}
