//! The lender's working-day calendar: a due date on a weekend or holiday moves to the next
//! (or previous) working day.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};

/// Where a due date that falls on a non-working day moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DueDateShift {
    /// It stays where it is.
    #[default]
    None,
    /// To the next working day.
    NextWorkingDay,
    /// To the previous working day.
    PreviousWorkingDay,
}

/// Weekend days, holidays and the shift rule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Calendar {
    /// Days of the week that are never working days.
    pub weekend: Vec<Weekday>,
    /// Dates that are not working days.
    pub holidays: BTreeSet<NaiveDate>,
    /// Where due dates on non-working days move.
    pub shift: DueDateShift,
}

impl Calendar {
    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.weekend.contains(&date.weekday()) && !self.holidays.contains(&date)
    }

    /// The date a payment scheduled for `due` is actually due on.
    ///
    /// A calendar whose every weekday is a weekend has no working day; the date then stays.
    pub fn shift(&self, due: NaiveDate) -> NaiveDate {
        let step = match self.shift {
            DueDateShift::None => return due,
            DueDateShift::NextWorkingDay => NaiveDate::succ_opt,
            DueDateShift::PreviousWorkingDay => NaiveDate::pred_opt,
        };
        if self.weekend.len() >= 7 {
            return due;
        }
        let mut date = due;
        // Holidays are finite, so a working day is always within reach.
        while !self.is_working_day(date) {
            match step(&date) {
                Some(next) => date = next,
                None => return due,
            }
        }
        date
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn weekend_and_new_year(shift: DueDateShift) -> Calendar {
        Calendar {
            weekend: vec![Weekday::Sat, Weekday::Sun],
            holidays: [date("2027-01-01")].into_iter().collect(),
            shift,
        }
    }

    #[test]
    fn saturday_moves_to_monday_or_back_to_friday() {
        // 2026-03-14 is a Saturday.
        let next = weekend_and_new_year(DueDateShift::NextWorkingDay);
        assert_eq!(next.shift(date("2026-03-14")), date("2026-03-16"));
        let previous = weekend_and_new_year(DueDateShift::PreviousWorkingDay);
        assert_eq!(previous.shift(date("2026-03-14")), date("2026-03-13"));
        assert_eq!(next.shift(date("2026-03-13")), date("2026-03-13"));
    }

    #[test]
    fn holidays_and_weekends_chain() {
        // 2027-01-01 is a Friday holiday: the next working day is Monday 2027-01-04;
        // the previous one is Thursday 2026-12-31.
        let next = weekend_and_new_year(DueDateShift::NextWorkingDay);
        assert_eq!(next.shift(date("2027-01-01")), date("2027-01-04"));
        let previous = weekend_and_new_year(DueDateShift::PreviousWorkingDay);
        assert_eq!(previous.shift(date("2027-01-02")), date("2026-12-31"));
    }

    #[test]
    fn no_shift_rule_leaves_dates_alone() {
        let none = weekend_and_new_year(DueDateShift::None);
        assert_eq!(none.shift(date("2026-03-14")), date("2026-03-14"));
    }
}
