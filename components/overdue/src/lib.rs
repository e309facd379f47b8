//! The overdue engine component: exports `postloan:overdue/overdue` as implemented in
//! `postloan-overdue-guest`, and imports no host capability.

use postloan_overdue_guest::OverdueEngine;

postloan_overdue_guest::export!(OverdueEngine with_types_in postloan_overdue_guest);
