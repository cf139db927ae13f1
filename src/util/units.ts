// Human units as Podman prints them: "4.26 MB", "3 days ago".

// Decimal sizes with three significant digits (docker/go-units HumanSize).
export const humanSize = (bytes: number): string => {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${Number(value.toPrecision(3))} ${units[i]}`;
};

// "About a minute ago", "3 days ago", "2 years ago" (go-units HumanDuration + " ago").
export const timeAgo = (iso: string, now = Date.now()): string => `${humanDuration(iso, now)} ago`;

// "Less than a second", "5 seconds", "About an hour" (go-units HumanDuration), since `iso`.
export const humanDuration = (iso: string, now = Date.now()): string => {
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  const minutes = seconds / 60;
  const hours = minutes / 60;
  const days = hours / 24;
  let text: string;
  if (seconds < 1) text = 'Less than a second';
  else if (seconds < 2) text = '1 second';
  else if (seconds < 60) text = `${Math.floor(seconds)} seconds`;
  else if (minutes < 2) text = 'About a minute';
  else if (minutes < 60) text = `${Math.floor(minutes)} minutes`;
  else if (hours < 2) text = 'About an hour';
  else if (hours < 48) text = `${Math.floor(hours)} hours`;
  else if (days < 14) text = `${Math.floor(days)} days`;
  else if (days < 60) text = `${Math.floor(days / 7)} weeks`;
  else if (days < 730) text = `${Math.floor(days / 30)} months`;
  else text = `${Math.floor(days / 365)} years`;
  return text;
};

export const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);
