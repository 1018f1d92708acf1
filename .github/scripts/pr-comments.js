// Posts every file of `dir` as one pull-request comment, updating the bot's earlier comment that starts
// with the same first line (the marker). GitHub refuses comment bodies over 65,536 characters, so a
// longer body (a long preview, error text included) is cut, and says so.
const fs = require('fs');
const path = require('path');

const LIMIT = 65536;
const NOTE = '\n\n_Cut to stay under GitHub\'s 65,536-character comment limit: the job log has all of it._\n';

// The fence still open at the end of `text` (CommonMark: a line of 0-3 spaces and 3 or more backticks or
// tildes opens one; a line of the same character, at least as long, with nothing after, closes it), or ''.
function openFence(text) {
  let open = '';
  for (const line of text.split('\n')) {
    const match = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (!match) continue;
    const [, run, rest] = match;
    if (!open) {
      if (!(run[0] === '`' && rest.includes('`'))) open = run;
    } else if (run[0] === open[0] && run.length >= open.length && rest.trim() === '') {
      open = '';
    }
  }
  return open;
}

function fit(body) {
  // String length counts UTF-16 units, never fewer than characters: a body this short always fits.
  if (body.length <= LIMIT - 1000) return body;
  let cut = body.slice(0, LIMIT - 1000 - NOTE.length);
  const open = openFence(cut);
  if (open) cut += `\n${open}`;
  return cut + NOTE;
}

module.exports = async ({ github, context, dir }) => {
  if (!dir || !fs.existsSync(dir)) return;
  const { owner, repo } = context.repo;
  const issue_number = context.issue.number;
  const existing = await github.paginate(github.rest.issues.listComments, {
    owner, repo, issue_number, per_page: 100,
  });
  for (const file of fs.readdirSync(dir).sort()) {
    const body = fit(fs.readFileSync(path.join(dir, file), 'utf8'));
    const marker = body.split('\n', 1)[0];
    const old = existing.find((c) => c.user.type === 'Bot' && c.body.startsWith(marker));
    if (old) {
      await github.rest.issues.updateComment({ owner, repo, comment_id: old.id, body });
    } else {
      await github.rest.issues.createComment({ owner, repo, issue_number, body });
    }
  }
};

module.exports.fit = fit;
module.exports.openFence = openFence;
module.exports.LIMIT = LIMIT;
