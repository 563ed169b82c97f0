import { type JSX, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { chooseIssuer, chosenIssuer, loadMe, logout, type Me } from './api';
import { ErrorBanner } from './components';
import { Audit } from './pages/audit';
import { CaseDetail } from './pages/case-detail';
import { Cases } from './pages/cases';
import { Deliveries } from './pages/deliveries';
import { Evaluation } from './pages/evaluation';
import { Keys } from './pages/keys';
import { NotificationDetail } from './pages/notification-detail';
import { Notifications } from './pages/notifications';
import { Operators } from './pages/operators';
import { Overview } from './pages/overview';
import { Quarantine } from './pages/quarantine';
import { href, useRoute } from './router';

interface NavItem {
  path: string;
  label: string;
  admin?: boolean;
}

const NAV: NavItem[] = [
  { path: 'overview', label: 'Overview' },
  { path: 'notifications', label: 'Notifications' },
  { path: 'cases', label: 'Cases' },
  { path: 'evaluation', label: 'Evaluation' },
  { path: 'quarantine', label: 'Quarantine' },
  { path: 'deliveries', label: 'Deliveries' },
  { path: 'keys', label: 'Keys & certificates' },
  { path: 'audit', label: 'Audit log', admin: true },
  { path: 'operators', label: 'Operators', admin: true },
];

/** The issuer switcher, for an operator who sees more than one issuer. */
function IssuerSwitch({ me, onChange }: { me: Me; onChange: (id: string | null) => void }) {
  if (me.issuerChoices.length < 2) return null;
  return (
    <label class="issuer-switch">
      <span>Issuer</span>
      <select
        id="issuer-switch"
        value={chosenIssuer() ?? ''}
        onChange={(e) => onChange((e.target as HTMLSelectElement).value || null)}
      >
        <option value="">{me.allIssuers ? 'All issuers' : 'All my issuers'}</option>
        {me.issuerChoices.map((i) => (
          <option key={i.id} value={i.id}>
            {i.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function App({ me }: { me: Me }) {
  const route = useRoute();
  const [issuer, setIssuer] = useState(chosenIssuer());
  const switchTo = (id: string | null) => {
    chooseIssuer(id);
    setIssuer(id);
  };
  const [section = 'overview', id] = route.path;
  let page: JSX.Element;
  if (section === 'notifications' && id) page = <NotificationDetail id={id} me={me} />;
  else if (section === 'notifications') page = <Notifications route={route} me={me} />;
  else if (section === 'cases' && id) page = <CaseDetail id={id} me={me} />;
  else if (section === 'cases') page = <Cases me={me} route={route} />;
  else if (section === 'evaluation') page = <Evaluation route={route} />;
  else if (section === 'quarantine') page = <Quarantine me={me} />;
  else if (section === 'deliveries') page = <Deliveries me={me} route={route} />;
  else if (section === 'keys') page = <Keys />;
  else if (section === 'audit' && me.role === 'admin') page = <Audit />;
  else if (section === 'operators' && me.role === 'admin') page = <Operators me={me} />;
  else page = <Overview />;
  return (
    <div class="shell">
      <aside class="sidebar">
        <div class="brand">
          <span class="brand-mark" aria-hidden="true" />
          ctp-notify
        </div>
        <div class="brand-sub">Operator console</div>
        <IssuerSwitch me={me} onChange={switchTo} />
        <nav>
          {NAV.filter((n) => !n.admin || me.role === 'admin').map((n) => (
            <a key={n.path} href={href(n.path)} class={section === n.path ? 'active' : ''}>
              {n.label}
            </a>
          ))}
        </nav>
        <div class="sidebar-foot">
          <div class="who">
            <div class="who-name">{me.name}</div>
            <div class="who-role">{me.role}</div>
          </div>
          <button
            type="button"
            class="btn btn-ghost btn-small"
            id="sign-out"
            onClick={() => void logout()}
          >
            Sign out
          </button>
        </div>
      </aside>
      {/* Keyed by the issuer: a switch mounts the page again, which loads its data again. */}
      <main class="content" key={issuer ?? '*'} data-issuer={issuer ?? ''}>
        {page}
      </main>
    </div>
  );
}

function Root() {
  const [me, setMe] = useState<Me>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    loadMe().then(setMe, setError);
  }, []);
  if (error)
    return (
      <main class="content">
        <ErrorBanner error={error} />
      </main>
    );
  return me ? <App me={me} /> : null;
}

render(<Root />, document.getElementById('app')!);
