// Package video is rathaus's call service for video consultations in case
// rooms (docs/video.md, issue 14): the Backend interface the rest of
// rathaus uses, and the grants that let one participant into one call.
//
// Layering, as in LiveKit: video is the call service; the media server
// inside the binary will live in video/{signal,rtc,sfu,turn}, which import
// neither store nor bot, and a LiveKit backend in video/livekit. The lobby
// lives in rathaus, not in the media server: no participant gets a grant
// before a caseworker admitted them.
package video
