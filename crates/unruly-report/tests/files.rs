//! report.json and events.jsonl on disk.

mod common;

use unruly_core::{Event, Report};
use unruly_report::{render_load_json, write_report_json, EventsWriter};

#[test]
fn report_json_round_trips_and_leaves_no_temporary_file() {
    let dir = common::temp_dir("report-json");
    let report = common::sample_report();
    let path = write_report_json(&report, &dir).expect("write report.json");
    assert_eq!(path, dir.join("report.json"));
    let text = std::fs::read_to_string(&path).expect("read report.json");
    assert!(text.ends_with("}\n"));
    assert!(
        text.contains("\n  \"schema_version\": 1,"),
        "pretty-printed"
    );
    let back: Report = serde_json::from_str(&text).expect("parse report.json");
    assert_eq!(back, report);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["report.json".to_string()]);

    // Written again over the old one.
    let mut second = report.clone();
    second.seed = 7;
    write_report_json(&second, &dir).expect("rewrite report.json");
    let back: Report =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("parse");
    assert_eq!(back.seed, 7);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_json_creates_its_directory() {
    let dir = common::temp_dir("nested").join("a/b");
    let path = write_report_json(&common::sample_report(), &dir).expect("write");
    assert!(path.exists());
}

#[test]
fn load_json_is_the_report_itself() {
    let report = common::sample_report();
    let text = render_load_json(&report);
    let back: Report = serde_json::from_str(&text).expect("parse");
    assert_eq!(back, report);
    assert!(text.starts_with("{\n"));
}

#[test]
fn events_are_one_json_object_a_line() {
    let dir = common::temp_dir("events");
    let report = common::sample_report();
    let events = vec![
        Event::Start {
            target: report.target.clone(),
            started_at: report.started_at.clone(),
            seed: report.seed,
        },
        Event::Window(report.timeline[0].clone()),
        Event::Finding(report.findings[0].clone()),
        Event::End {
            duration_s: report.duration_s,
            interrupted: false,
        },
    ];
    let mut writer = EventsWriter::create(&dir).expect("create events.jsonl");
    assert_eq!(writer.path(), dir.join("events.jsonl"));
    for (i, event) in events.iter().enumerate() {
        writer.write(event).expect("write an event");
        // Each event is on disk as soon as it is written, before the writer is dropped.
        let text = std::fs::read_to_string(writer.path()).expect("read");
        assert_eq!(text.lines().count(), i + 1);
        assert!(text.ends_with('\n'));
    }
    writer.sync().expect("sync");
    let text = std::fs::read_to_string(writer.path()).expect("read");
    let back: Vec<Event> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one event"))
        .collect();
    assert_eq!(back, events);
    assert!(text
        .lines()
        .next()
        .is_some_and(|l| l.starts_with("{\"event\":\"start\"")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_finding_with_a_hostile_body_stays_one_line() {
    let dir = common::temp_dir("events-hostile");
    let mut writer = EventsWriter::create(&dir).expect("create");
    let mut finding = common::sample_report().findings[0].clone();
    finding.summary = "line\nbreak\r\u{1b}[2J\u{2028}".into();
    writer.write(&Event::Finding(finding)).expect("write");
    let text = std::fs::read_to_string(writer.path()).expect("read");
    assert_eq!(text.lines().count(), 1);
    assert!(!text.contains('\u{1b}'));
    let _ = std::fs::remove_dir_all(&dir);
}
