"""The year-end assessment (chấm điểm thi đua) and award proposals (bình xét)."""
