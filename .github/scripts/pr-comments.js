// Posts every file of `dir` as one pull-request comment, updating the bot's earlier comment that starts
// with the same first line (the marker). GitHub refuses comment bodies over 65,536 characters, so a
// longer body (a long preview, error text included) is cut, and says so.
const fs = require('fs');
const path = require('path');

const LIMIT = 65536;
const NOTE = '\n\n_Cut to stay under GitHub\'s 65,536-character comment limit: the job log has all of it._\n';

function fit(body) {
  // String length counts UTF-16 units, never fewer than characters: a body this short always fits.
  if (body.length <= LIMIT - 1000) return body;
  let cut = body.slice(0, LIMIT - 1000 - NOTE.length);
  const fences = (cut.match(/^```/gm) || []).length;
  if (fences % 2 === 1) cut += '\n```';
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
module.exports.LIMIT = LIMIT;
